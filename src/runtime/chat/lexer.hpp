// Splits a chat template into tokens the way Jinja2's lexer does under transformers' settings
// (trim_blocks, lstrip_blocks, `-`/`+` whitespace control, comments, raw blocks). Whitespace
// control is resolved here, so Text tokens carry exactly the text the template prints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace minima::jinja {

enum class TokType : uint8_t {
  Text,
  VarBegin,    // {{
  VarEnd,      // }}
  BlockBegin,  // {%
  BlockEnd,    // %}
  Name,
  String,
  Integer,
  Float,
  Operator,  // value holds the spelling: "+", "//", "==", "(", ...
  Eof,
};

struct Token {
  TokType type = TokType::Eof;
  std::string value;  // text, name, decoded string literal or operator spelling
  int64_t int_value = 0;
  double float_value = 0;
  uint32_t offset = 0;  // byte offset into the normalized source
};

// Maps byte offsets of the normalized source to 1-based lines and columns for messages.
class SourceMap {
 public:
  explicit SourceMap(std::string_view source);
  int line(uint32_t offset) const;
  int column(uint32_t offset) const;

 private:
  std::vector<uint32_t> line_starts_;
};

// Jinja's newline handling: \r\n and \r become \n, and one trailing newline is dropped
// (keep_trailing_newline=False).
std::string normalize_source(std::string_view source);

// Tokenizes a normalized source. Throws TemplateError (TemplateSyntaxError) naming line and
// column on a lexical error.
std::vector<Token> tokenize(std::string_view source);

// The message of a syntax error at `offset`: "syntax error at line L, column C: what".
[[noreturn]] void syntax_error(std::string_view source, uint32_t offset, const std::string& what);

}  // namespace minima::jinja
