// Training documents read from corpus files, shared by tokenizer training and data preparation.
//
//   *.jsonl     one document per line, the string field "text" of a JSON object; blank lines
//               are skipped (they are common at the end of files and carry no document);
//   other files the whole file is one document.
//
// Every document handed out is valid UTF-8: the pre-tokenizer and the byte-level tokenizer
// assume it, and silently replacing bytes would train on text that is not in the corpus. Any
// problem throws Error naming the file and, for JSON lines, the 1-based line number.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "core/function_ref.hpp"

namespace minima::train {

struct CorpusDocument {
  std::string_view text;  // valid only during the callback
  uint64_t line = 0;      // 1-based line of a .jsonl file; 0 for a whole-file document
};

// Whether the file is read as JSON lines (by its extension).
bool is_jsonl(const std::filesystem::path& path);

// Calls fn on every document of the file, in file order.
void for_each_document(const std::filesystem::path& path,
                       FunctionRef<void(const CorpusDocument&)> fn);

// Offset of the first byte of s that is not part of valid UTF-8 (strict: no overlong forms,
// surrogates or code points above U+10FFFF), or npos when s is valid.
size_t find_invalid_utf8(std::string_view s);

}  // namespace minima::train
