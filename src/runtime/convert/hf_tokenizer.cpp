#include "runtime/convert/hf_tokenizer.hpp"

#include <cstring>
#include <fstream>
#include <optional>
#include <unordered_map>

#include "core/error.hpp"
#include "core/mapped_file.hpp"

namespace minima {
namespace {

// GGUF token types (the SentencePiece numbering).
constexpr int64_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5;

// The byte-level BPE pre-tokenizer regexes llama.cpp knows by name.
constexpr const char* kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr const char* kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) fail("cannot read ", p.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(p.string(), ": not valid JSON: ", e.what());
  }
}

// "<s>" or {"content": "<s>", ...} → the text; nullopt for null / absent.
std::optional<std::string> token_text(const nlohmann::json& cfg, const char* key) {
  if (!cfg.contains(key)) return std::nullopt;
  const auto& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return std::nullopt;
}

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<double> scores;  // SentencePiece only
  std::vector<int64_t> types;
  std::unordered_map<std::string, int64_t> ids;
};

// --- SentencePiece protobuf (ModelProto: field 1 = repeated SentencePiece {1: piece, 2: score,
// 3: type}); everything else is skipped by wire type. ---
class Proto {
 public:
  Proto(std::span<const uint8_t> b, std::string name) : b_(b), name_(std::move(name)) {}
  bool done() const { return pos_ >= b_.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) fail(name_, ": truncated varint at byte ", pos_);
      const uint8_t c = b_[pos_++];
      v |= uint64_t(c & 0x7F) << shift;
      if (!(c & 0x80)) return v;
    }
    fail(name_, ": varint too long at byte ", pos_);
  }
  std::span<const uint8_t> bytes(uint64_t n) {
    if (n > b_.size() - pos_) fail(name_, ": field of ", n, " bytes past the end at ", pos_);
    auto s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  void skip(int wire) {
    if (wire == 0)
      varint();
    else if (wire == 1)
      bytes(8);
    else if (wire == 2)
      bytes(varint());
    else if (wire == 5)
      bytes(4);
    else
      fail(name_, ": unsupported protobuf wire type ", wire, " at byte ", pos_);
  }

 private:
  std::span<const uint8_t> b_;
  std::string name_;
  size_t pos_ = 0;
};

Vocab read_sentencepiece(const std::filesystem::path& path) {
  const MappedFile f(path, FileLoad::Map);
  Proto top(f.bytes(), path.string());
  Vocab v;
  while (!top.done()) {
    const uint64_t key = top.varint();
    if (key >> 3 != 1 || (key & 7) != 2) {
      top.skip(int(key & 7));
      continue;
    }
    Proto piece(top.bytes(top.varint()), path.string());
    std::string text;
    float score = 0;
    int64_t type = kNormal;
    while (!piece.done()) {
      const uint64_t k = piece.varint();
      if (k == (1 << 3 | 2)) {
        const auto s = piece.bytes(piece.varint());
        text.assign(reinterpret_cast<const char*>(s.data()), s.size());
      } else if (k == (2 << 3 | 5)) {
        std::memcpy(&score, piece.bytes(4).data(), 4);
      } else if (k == (3 << 3 | 0)) {
        type = int64_t(piece.varint());
      } else {
        piece.skip(int(k & 7));
      }
    }
    v.ids.emplace(text, int64_t(v.tokens.size()));
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.types.push_back(type);
  }
  if (v.tokens.empty()) fail(path.string(), ": no pieces (not a SentencePiece model)");
  return v;
}

// The pre-tokenizer name for a tokenizer.json's pre_tokenizer.
std::string bpe_pre_name(const nlohmann::json& pre, const std::string& where) {
  std::vector<const nlohmann::json*> parts;
  if (pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers")) {
    for (const auto& p : pre["pretokenizers"]) parts.push_back(&p);
  } else if (pre.is_object()) {
    parts.push_back(&pre);
  }
  for (const auto* p : parts) {
    if (p->value("type", "") != "Split") continue;
    const auto& pat = (*p)["pattern"];
    if (!pat.is_object() || !pat.contains("Regex")) continue;
    const std::string re = pat["Regex"].get<std::string>();
    if (re == kLlama3Regex) return "llama-bpe";
    if (re == kQwen2Regex) return "qwen2";
    fail(where, ": pre-tokenizer regex ", nlohmann::json(re).dump(),
         " is not one minima knows (Llama 3's, Qwen2's or GPT-2's)");
  }
  for (const auto* p : parts)
    if (p->value("type", "") == "ByteLevel") return "gpt-2";
  fail(where, ": no byte-level pre-tokenizer (a Split regex or ByteLevel) found");
}

Vocab read_bpe(const nlohmann::json& tj, const std::string& where,
               std::vector<std::string>* merges) {
  const auto& model = tj["model"];
  if (!model.is_object() || model.value("type", "") != "BPE")
    fail(where, ": model.type must be BPE");
  if (model.value("byte_fallback", false))
    fail(where, ": a SentencePiece-style BPE (byte_fallback) needs tokenizer.model beside it");
  Vocab v;
  int64_t max_id = -1;
  for (const auto& [tok, id] : model["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > (1 << 24))
      fail(where, ": bad id for token ", nlohmann::json(tok).dump());
    max_id = std::max(max_id, id.get<int64_t>());
  }
  if (tj.contains("added_tokens"))
    for (const auto& a : tj["added_tokens"]) {
      const int64_t id = a.value("id", int64_t(-1));
      if (id < 0 || id > (1 << 24)) fail(where, ": bad added token id ", a.dump());
      max_id = std::max(max_id, id);
    }
  v.tokens.assign(size_t(max_id + 1), "");
  v.types.assign(size_t(max_id + 1), kUnused);
  for (const auto& [tok, id] : model["vocab"].items()) {
    v.tokens[size_t(id.get<int64_t>())] = tok;
    v.types[size_t(id.get<int64_t>())] = kNormal;
  }
  if (tj.contains("added_tokens"))
    for (const auto& a : tj["added_tokens"]) {
      const auto id = size_t(a["id"].get<int64_t>());
      v.tokens[id] = a.value("content", "");
      v.types[id] = a.value("special", false) ? kControl : kUserDefined;
    }
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.types[i] == kUnused && v.tokens[i].empty())
      v.tokens[i] = "[PAD" + std::to_string(i) + "]";
    v.ids.emplace(v.tokens[i], int64_t(i));
  }
  for (const auto& m : model["merges"]) {
    if (m.is_string())
      merges->push_back(m.get<std::string>());
    else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
      merges->push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    else
      fail(where, ": bad merge ", m.dump());
  }
  return v;
}

}  // namespace

std::string convert_hf_tokenizer(const std::filesystem::path& dir, const nlohmann::json& config,
                                 int64_t n_vocab, GgufWriter& w) {
  const auto cfg_path = dir / "tokenizer_config.json";
  const nlohmann::json cfg =
      std::filesystem::exists(cfg_path) ? read_json(cfg_path) : nlohmann::json::object();
  const bool spm = std::filesystem::exists(dir / "tokenizer.model");
  Vocab v;
  std::vector<std::string> merges;
  std::string model, pre;
  if (spm) {
    v = read_sentencepiece(dir / "tokenizer.model");
    model = "llama";
    pre = "default";
    // Tokens the HF tokenizer adds after the SentencePiece ones (ids past the model's pieces).
    if (std::filesystem::exists(dir / "tokenizer.json")) {
      const auto tj = read_json(dir / "tokenizer.json");
      if (tj.contains("added_tokens"))
        for (const auto& a : tj["added_tokens"]) {
          const int64_t id = a.value("id", int64_t(-1));
          if (id < int64_t(v.tokens.size()) || id > (1 << 24)) continue;
          while (int64_t(v.tokens.size()) < id) {
            v.tokens.push_back("[PAD" + std::to_string(v.tokens.size()) + "]");
            v.scores.push_back(0);
            v.types.push_back(kUnused);
          }
          v.tokens.push_back(a.value("content", ""));
          v.scores.push_back(0);
          v.types.push_back(a.value("special", false) ? kControl : kUserDefined);
          v.ids.emplace(v.tokens.back(), id);
        }
    }
  } else if (std::filesystem::exists(dir / "tokenizer.json")) {
    const std::string where = (dir / "tokenizer.json").string();
    const auto tj = read_json(dir / "tokenizer.json");
    v = read_bpe(tj, where, &merges);
    model = "gpt2";
    pre =
        bpe_pre_name(tj.contains("pre_tokenizer") ? tj["pre_tokenizer"] : nlohmann::json(), where);
  } else {
    fail(dir.string(), ": no tokenizer.model or tokenizer.json");
  }
  if (int64_t(v.tokens.size()) > n_vocab)
    fail(dir.string(), ": the tokenizer has ", v.tokens.size(),
         " tokens, the model's embedding only ", n_vocab, " rows");
  while (int64_t(v.tokens.size()) < n_vocab) {
    v.tokens.push_back("[PAD" + std::to_string(v.tokens.size()) + "]");
    v.types.push_back(kUnused);
    if (spm) v.scores.push_back(0);
  }

  w.set_string("tokenizer.ggml.model", model);
  w.set_string("tokenizer.ggml.pre", pre);
  const size_t n = v.tokens.size();
  w.set_array("tokenizer.ggml.tokens", GgufWriter::strings(std::move(v.tokens)));
  if (spm) w.set_array("tokenizer.ggml.scores", GgufWriter::floats(std::move(v.scores)));
  w.set_array("tokenizer.ggml.token_type", GgufWriter::ints(std::move(v.types)));
  if (!spm) w.set_array("tokenizer.ggml.merges", GgufWriter::strings(merges));

  // Special ids: tokenizer_config's tokens, then config.json's ids, then SentencePiece defaults.
  auto special = [&](const char* cfg_key, const char* id_key, const char* gguf_key,
                     const char* spm_default) {
    std::optional<int64_t> id;
    if (auto t = token_text(cfg, cfg_key)) {
      const auto it = v.ids.find(*t);
      if (it == v.ids.end())
        fail(cfg_path.string(), ": ", cfg_key, " ", nlohmann::json(*t).dump(),
             " is not in the vocabulary");
      id = it->second;
    } else if (config.contains(id_key) && config[id_key].is_number_integer()) {
      id = config[id_key].get<int64_t>();
    } else if (config.contains(id_key) && config[id_key].is_array() && !config[id_key].empty()) {
      id = config[id_key][0].get<int64_t>();
    } else if (spm && spm_default != nullptr && v.ids.count(spm_default)) {
      id = v.ids.at(spm_default);
    }
    if (id && *id >= 0 && *id < int64_t(n)) w.set_u32(gguf_key, uint32_t(*id));
  };
  special("bos_token", "bos_token_id", "tokenizer.ggml.bos_token_id", "<s>");
  special("eos_token", "eos_token_id", "tokenizer.ggml.eos_token_id", "</s>");
  special("unk_token", "unk_token_id", "tokenizer.ggml.unknown_token_id", "<unk>");
  special("pad_token", "pad_token_id", "tokenizer.ggml.padding_token_id", nullptr);
  if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean())
    w.set_bool("tokenizer.ggml.add_bos_token", cfg["add_bos_token"].get<bool>());
  else if (spm)
    w.set_bool("tokenizer.ggml.add_bos_token", true);
  if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean())
    w.set_bool("tokenizer.ggml.add_eos_token", cfg["add_eos_token"].get<bool>());
  if (cfg.contains("chat_template")) {
    const auto& t = cfg["chat_template"];
    if (t.is_string()) {
      w.set_string("tokenizer.chat_template", t.get<std::string>());
    } else if (t.is_array()) {  // [{"name": "default", "template": ...}, ...]
      for (const auto& e : t)
        if (e.value("name", "") == "default" && e.contains("template"))
          w.set_string("tokenizer.chat_template", e["template"].get<std::string>());
    }
  }
  return model + " (pre " + pre + "), " + std::to_string(n) + " tokens";
}

}  // namespace minima
