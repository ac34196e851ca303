#include "train/corpus.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <string>

#include "core/error.hpp"
#include "core/mapped_file.hpp"
#include "runtime/tokenizer/utf8.hpp"

namespace minima::train {

namespace {

bool is_blank(std::string_view s) {
  for (const char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

// nlohmann's messages start with "[json.exception.parse_error.101] parse error at line 1, ": the
// line is always 1 (we parse one line at a time) and the tag means nothing to a user.
std::string json_reason(const nlohmann::json::exception& e) {
  std::string_view m = e.what();
  if (const size_t p = m.find("] "); p != std::string_view::npos) m.remove_prefix(p + 2);
  constexpr std::string_view kLine1 = "parse error at line 1, ";
  if (m.starts_with(kLine1)) m.remove_prefix(kLine1.size());
  return std::string(m);
}

void read_jsonl(const std::string& name, std::string_view bytes,
                FunctionRef<void(const CorpusDocument&)> fn) {
  uint64_t line_no = 0;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view line = bytes.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (is_blank(line)) continue;
    if (const size_t bad = find_invalid_utf8(line); bad != std::string_view::npos) {
      fail(name, ":", line_no, ": invalid UTF-8 at byte ", bad + 1, " of the line");
    }
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line.begin(), line.end());
    } catch (const nlohmann::json::exception& e) {
      fail(name, ":", line_no, ": malformed JSON: ", json_reason(e));
    }
    if (!j.is_object()) fail(name, ":", line_no, ": expected a JSON object, found ", j.type_name());
    const auto it = j.find("text");
    if (it == j.end()) fail(name, ":", line_no, ": the object has no \"text\" field");
    if (!it->is_string()) {
      fail(name, ":", line_no, ": field \"text\" is a ", it->type_name(), ", expected a string");
    }
    // The parser rejects invalid UTF-8 and unpaired surrogate escapes, so the text is valid.
    fn(CorpusDocument{it->get_ref<const std::string&>(), line_no});
  }
}

}  // namespace

bool is_jsonl(const std::filesystem::path& path) {
  return path.extension() == ".jsonl";
}

size_t find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII runs dominate English text; skip them eight bytes at a time.
    while (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= s.size()) break;
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const utf8::ScanResult r = utf8::scan(s, i);
    if (r.kind != utf8::Scan::Valid) return i;
    i += r.len;
  }
  return std::string_view::npos;
}

void for_each_document(const std::filesystem::path& path,
                       FunctionRef<void(const CorpusDocument&)> fn) {
  const MappedFile file(path, FileLoad::Map);
  const std::span<const uint8_t> b = file.bytes();
  const std::string_view bytes(reinterpret_cast<const char*>(b.data()), b.size());
  const std::string name = path.string();
  if (is_jsonl(path)) {
    read_jsonl(name, bytes, fn);
    return;
  }
  if (const size_t bad = find_invalid_utf8(bytes); bad != std::string_view::npos) {
    uint64_t line = 1;
    for (size_t i = 0; i < bad; ++i) line += bytes[i] == '\n';
    fail(name, ":", line, ": invalid UTF-8 at byte offset ", bad, " of the file");
  }
  fn(CorpusDocument{bytes, 0});
}

}  // namespace minima::train
