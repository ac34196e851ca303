#include "runtime/chat/lexer.hpp"

#include <unicode/uchar.h>

#include <algorithm>
#include <limits>

#include "runtime/chat/error.hpp"
#include "runtime/chat/pystr.hpp"
#include "runtime/tokenizer/utf8.hpp"

namespace minima::jinja {

SourceMap::SourceMap(std::string_view source) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\n') line_starts_.push_back(static_cast<uint32_t>(i + 1));
  }
}

int SourceMap::line(uint32_t offset) const {
  const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  return static_cast<int>(it - line_starts_.begin());
}

int SourceMap::column(uint32_t offset) const {
  return static_cast<int>(offset - line_starts_[static_cast<size_t>(line(offset) - 1)]) + 1;
}

std::string normalize_source(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void syntax_error(std::string_view source, uint32_t offset, const std::string& what) {
  const SourceMap map(source);
  throw TemplateError("TemplateSyntaxError",
                      "syntax error in chat template at line " + std::to_string(map.line(offset)) +
                          ", column " + std::to_string(map.column(offset)) + ": " + what,
                      map.line(offset));
}

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  return (c | 0x20) - 'a' + 10;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      const size_t tag = find_tag(pos_);
      if (tag == std::string_view::npos) {
        emit_text(std::string(src_.substr(pos_)), static_cast<uint32_t>(pos_));
        break;
      }
      lex_tag(tag);
    }
    push(TokType::Eof, "", src_.size());
    return std::move(tokens_);
  }

 private:
  // Earliest "{{", "{%" or "{#" at or after `from`.
  size_t find_tag(size_t from) const {
    size_t p = from;
    while ((p = src_.find('{', p)) != std::string_view::npos) {
      if (p + 1 < src_.size() && (src_[p + 1] == '{' || src_[p + 1] == '%' || src_[p + 1] == '#')) {
        return p;
      }
      ++p;
    }
    return std::string_view::npos;
  }

  void push(TokType type, std::string value, size_t offset) {
    Token t;
    t.type = type;
    t.value = std::move(value);
    t.offset = static_cast<uint32_t>(offset);
    tokens_.push_back(std::move(t));
  }

  void emit_text(std::string text, uint32_t offset) {
    if (!text.empty()) push(TokType::Text, std::move(text), offset);
  }

  size_t skip_space(size_t p) const {
    while (p < src_.size()) {
      const utf8::ScanResult r = utf8::scan(src_, p);
      if (!pystr::is_space(r.cp)) break;
      p += r.len;
    }
    return p;
  }

  // Applies the whitespace control of a tag that starts right after `text`: `-` strips all
  // whitespace before it; otherwise lstrip_blocks removes spaces between the line start and a
  // block or comment tag. `line_starting` says whether the previous tag ended a line.
  std::string strip_before(std::string_view text, char sign, bool is_variable) const {
    if (sign == '-') return pystr::strip(text, false, true);
    if (sign == '+' || is_variable) return std::string(text);
    const size_t nl = text.rfind('\n');
    const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
    if (l_pos == 0 && !line_starting_) return std::string(text);
    const std::string_view rest = text.substr(l_pos);
    if (rest.empty() || !pystr::strip(rest, true, true).empty()) return std::string(text);
    return std::string(text.substr(0, l_pos));
  }

  // Matches the end of a block tag at `p`: "+%}", "-%}" plus whitespace, or "%}" plus one
  // newline (trim_blocks). Returns the position after it, or npos.
  size_t match_block_end(size_t p) const {
    if (src_.compare(p, 3, "+%}") == 0) return p + 3;
    if (src_.compare(p, 3, "-%}") == 0) return skip_space(p + 3);
    if (src_.compare(p, 2, "%}") == 0) {
      return (p + 2 < src_.size() && src_[p + 2] == '\n') ? p + 3 : p + 2;
    }
    return std::string_view::npos;
  }

  void set_line_starting(size_t end) { line_starting_ = end > 0 && src_[end - 1] == '\n'; }

  bool word_at(size_t p, std::string_view w) const {
    if (src_.compare(p, w.size(), w) != 0) return false;
    const size_t e = p + w.size();
    return e >= src_.size() || !(std::isalnum(static_cast<unsigned char>(src_[e])) ||
                                 src_[e] == '_' || static_cast<unsigned char>(src_[e]) >= 0x80);
  }

  void lex_tag(size_t tag) {
    const char kind = src_[tag + 1];
    size_t p = tag + 2;
    char sign = 0;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
    emit_text(strip_before(src_.substr(pos_, tag - pos_), sign, kind == '{'),
              static_cast<uint32_t>(pos_));
    if (kind == '#') {
      lex_comment(p);
    } else if (kind == '%' && try_raw(tag, p)) {
      // handled
    } else {
      push(kind == '%' ? TokType::BlockBegin : TokType::VarBegin, "", tag);
      lex_inside(p, kind == '%');
    }
  }

  void lex_comment(size_t p) {
    const size_t e = src_.find("#}", p);
    if (e == std::string_view::npos)
      syntax_error(src_, static_cast<uint32_t>(p), "Missing end of comment tag");
    size_t end = e + 2;
    const char sign = e > p ? src_[e - 1] : 0;
    if (sign == '-') {
      end = skip_space(end);
    } else if (sign != '+' && end < src_.size() && src_[end] == '\n') {
      ++end;
    }
    pos_ = end;
    set_line_starting(end);
  }

  // `{% raw %}...{% endraw %}`: the body is text, untouched except for whitespace control.
  bool try_raw(size_t tag, size_t p) {
    size_t q = skip_space(p);
    if (!word_at(q, "raw")) return false;
    q = skip_space(q + 3);
    size_t body;
    if (src_.compare(q, 3, "-%}") == 0) {
      body = skip_space(q + 3);
    } else if (src_.compare(q, 2, "%}") == 0) {
      body = q + 2;
    } else {
      return false;
    }
    set_line_starting(body);
    size_t s = body;
    while (true) {
      s = src_.find("{%", s);
      if (s == std::string_view::npos) {
        syntax_error(src_, static_cast<uint32_t>(tag), "Missing end of raw directive");
      }
      size_t r = s + 2;
      char sign = 0;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) sign = src_[r++];
      r = skip_space(r);
      if (word_at(r, "endraw")) {
        r = skip_space(r + 6);
        const size_t end = match_block_end(r);
        if (end != std::string_view::npos) {
          emit_text(strip_before(src_.substr(body, s - body), sign, false),
                    static_cast<uint32_t>(body));
          pos_ = end;
          set_line_starting(end);
          return true;
        }
      }
      s += 2;
    }
  }

  void lex_inside(size_t p, bool block) {
    std::vector<char> brackets;
    while (true) {
      if (p >= src_.size()) {
        pos_ = p;
        return;  // the parser reports the missing end of the tag
      }
      if (brackets.empty()) {
        size_t end = std::string_view::npos;
        if (block) {
          end = match_block_end(p);
        } else if (src_.compare(p, 3, "-}}") == 0) {
          end = skip_space(p + 3);
        } else if (src_.compare(p, 2, "}}") == 0) {
          end = p + 2;
        }
        if (end != std::string_view::npos) {
          push(block ? TokType::BlockEnd : TokType::VarEnd, "", p);
          pos_ = end;
          set_line_starting(end);
          return;
        }
      }
      const size_t ws = skip_space(p);
      if (ws != p) {
        p = ws;
        continue;
      }
      p = lex_token(p, brackets);
    }
  }

  // Digits with single underscores between them, as in (\d+_)*\d+. Returns the end or npos.
  size_t digit_run(size_t p) const {
    if (p >= src_.size() || !is_digit(src_[p])) return std::string_view::npos;
    while (true) {
      while (p < src_.size() && is_digit(src_[p])) ++p;
      if (p + 1 < src_.size() && src_[p] == '_' && is_digit(src_[p + 1])) {
        ++p;
        continue;
      }
      return p;
    }
  }

  size_t match_float(size_t p) const {
    if (p > 0 && src_[p - 1] == '.') return std::string_view::npos;
    size_t e = digit_run(p);
    if (e == std::string_view::npos) return e;
    size_t frac = std::string_view::npos;
    if (e < src_.size() && src_[e] == '.') frac = digit_run(e + 1);
    const size_t after = frac == std::string_view::npos ? e : frac;
    if (after < src_.size() && (src_[after] == 'e' || src_[after] == 'E')) {
      size_t x = after + 1;
      if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
      const size_t xe = digit_run(x);
      if (xe != std::string_view::npos) return xe;
    }
    return frac;
  }

  size_t lex_token(size_t p, std::vector<char>& brackets) {
    const char c = src_[p];
    if (is_digit(c)) {
      const size_t fe = match_float(p);
      if (fe != std::string_view::npos) {
        std::string text;
        for (size_t i = p; i < fe; ++i) {
          if (src_[i] != '_') text.push_back(src_[i]);
        }
        push(TokType::Float, text, p);
        tokens_.back().float_value = std::strtod(text.c_str(), nullptr);
        return fe;
      }
      return lex_integer(p);
    }
    if (c == '_' || std::isalpha(static_cast<unsigned char>(c)) ||
        static_cast<unsigned char>(c) >= 0x80) {
      size_t e = p;
      while (e < src_.size()) {
        const utf8::ScanResult r = utf8::scan(src_, e);
        const bool ok =
            r.cp == '_' || (r.cp < 0x80 ? std::isalnum(static_cast<int>(r.cp)) != 0
                                        : u_hasBinaryProperty(static_cast<UChar32>(r.cp),
                                                              UCHAR_XID_CONTINUE) != 0);
        if (!ok || r.kind != utf8::Scan::Valid) break;
        e += r.len;
      }
      if (e == p) unexpected_char(p);
      const utf8::ScanResult first = utf8::scan(src_, p);
      if (first.cp >= 0x80 &&
          !u_hasBinaryProperty(static_cast<UChar32>(first.cp), UCHAR_XID_START)) {
        syntax_error(src_, static_cast<uint32_t>(p), "Invalid character in identifier");
      }
      push(TokType::Name, std::string(src_.substr(p, e - p)), p);
      return e;
    }
    if (c == '\'' || c == '"') return lex_string(p);
    static constexpr std::string_view kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (std::string_view op : kTwo) {
      if (src_.compare(p, 2, op) == 0) {
        push(TokType::Operator, std::string(op), p);
        return p + 2;
      }
    }
    if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos) {
      unexpected_char(p);
    }
    if (c == '(' || c == '[' || c == '{') {
      brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (brackets.empty())
        syntax_error(src_, static_cast<uint32_t>(p), std::string("unexpected '") + c + "'");
      if (brackets.back() != c) {
        syntax_error(src_, static_cast<uint32_t>(p),
                     std::string("unexpected '") + c + "', expected '" + brackets.back() + "'");
      }
      brackets.pop_back();
    }
    push(TokType::Operator, std::string(1, c), p);
    return p + 1;
  }

  [[noreturn]] void unexpected_char(size_t p) const {
    const utf8::ScanResult r = utf8::scan(src_, p);
    syntax_error(
        src_, static_cast<uint32_t>(p),
        "unexpected char " + pystr::repr(src_.substr(p, r.len)) + " at " + std::to_string(p));
  }

  size_t lex_integer(size_t p) {
    int base = 10;
    size_t e = p;
    auto prefixed = [&](char letter, auto valid) {
      if (src_[p] != '0' || p + 1 >= src_.size() || (src_[p + 1] | 0x20) != letter) return false;
      size_t q = p + 2;
      size_t last = q;
      while (q < src_.size()) {
        if (src_[q] == '_' && q + 1 < src_.size() && valid(src_[q + 1])) {
          q += 2;
        } else if (valid(src_[q])) {
          ++q;
        } else {
          break;
        }
        last = q;
      }
      if (last == p + 2) return false;
      e = last;
      return true;
    };
    if (prefixed('b', [](char ch) { return ch == '0' || ch == '1'; })) {
      base = 2;
    } else if (prefixed('o', [](char ch) { return ch >= '0' && ch <= '7'; })) {
      base = 8;
    } else if (prefixed('x', is_hex)) {
      base = 16;
    } else if (src_[p] == '0') {
      e = p + 1;
      while (e < src_.size()) {
        if (src_[e] == '0') {
          ++e;
        } else if (src_[e] == '_' && e + 1 < src_.size() && src_[e + 1] == '0') {
          e += 2;
        } else {
          break;
        }
      }
    } else {
      e = digit_run(p);
    }
    const size_t digits_from = base == 10 ? p : p + 2;
    int64_t value = 0;
    for (size_t i = digits_from; i < e; ++i) {
      if (src_[i] == '_') continue;
      const int d = hex_value(src_[i]);
      if (value > (std::numeric_limits<int64_t>::max() - d) / base) {
        syntax_error(src_, static_cast<uint32_t>(p), "integer literal is too large");
      }
      value = value * base + d;
    }
    push(TokType::Integer, std::string(src_.substr(p, e - p)), p);
    tokens_.back().int_value = value;
    return e;
  }

  size_t lex_string(size_t p) {
    const char quote = src_[p];
    size_t q = p + 1;
    while (q < src_.size() && src_[q] != quote) q += src_[q] == '\\' ? 2 : 1;
    if (q >= src_.size()) unexpected_char(p);
    push(TokType::String, unescape(p + 1, q), p);
    return q + 1;
  }

  // Python's unicode-escape decoding as Jinja applies it to string literals (non-ASCII text is
  // first written as \uXXXX escapes, so a backslash before it stays a literal backslash).
  std::string unescape(size_t b, size_t e) const {
    std::string out;
    size_t i = b;
    auto fail = [&](const char* what) { syntax_error(src_, static_cast<uint32_t>(i), what); };
    auto read_hex = [&](size_t from, int n, const char* what) {
      char32_t v = 0;
      for (int k = 0; k < n; ++k) {
        if (from + k >= e || !is_hex(src_[from + k])) fail(what);
        v = v * 16 + static_cast<char32_t>(hex_value(src_[from + k]));
      }
      return v;
    };
    auto put_cp = [&](char32_t cp) {
      if (cp > 0x10FFFF) fail("illegal Unicode character");
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = utf8::kReplacement;
      utf8::append(out, cp);
    };
    while (i < e) {
      const char c = src_[i];
      if (c != '\\') {
        out.push_back(c);
        ++i;
        continue;
      }
      const char n = src_[i + 1];
      size_t next = i + 2;
      switch (n) {
        case '\n':
          break;
        case '\\':
        case '\'':
        case '"':
          out.push_back(n);
          break;
        case 'a':
          out.push_back('\a');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'v':
          out.push_back('\v');
          break;
        case 'x':
          put_cp(read_hex(i + 2, 2, "truncated \\xXX escape"));
          next = i + 4;
          break;
        case 'u':
          put_cp(read_hex(i + 2, 4, "truncated \\uXXXX escape"));
          next = i + 6;
          break;
        case 'U':
          put_cp(read_hex(i + 2, 8, "truncated \\UXXXXXXXX escape"));
          next = i + 10;
          break;
        case 'N': {
          const size_t close = src_.find('}', i);
          if (i + 2 >= e || src_[i + 2] != '{' || close == std::string_view::npos || close >= e) {
            fail("malformed \\N character escape");
          }
          const std::string name(src_.substr(i + 3, close - i - 3));
          UErrorCode status = U_ZERO_ERROR;
          const UChar32 cp = u_charFromName(U_UNICODE_CHAR_NAME, name.c_str(), &status);
          if (U_FAILURE(status) || cp < 0) fail("unknown Unicode character name");
          put_cp(static_cast<char32_t>(cp));
          next = close + 1;
          break;
        }
        default:
          if (n >= '0' && n <= '7') {
            char32_t v = 0;
            size_t k = i + 1;
            while (k < e && k < i + 4 && src_[k] >= '0' && src_[k] <= '7') {
              v = v * 8 + static_cast<char32_t>(src_[k] - '0');
              ++k;
            }
            put_cp(v);
            next = k;
          } else if (static_cast<unsigned char>(n) >= 0x80) {
            // backslashreplace wrote the character as \xNN, \uNNNN or \UNNNNNNNN; the escaped
            // backslash leaves that spelling in the string.
            const utf8::ScanResult r = utf8::scan(src_, i + 1);
            static constexpr char kHex[] = "0123456789abcdef";
            out.push_back('\\');
            const int digits = r.cp <= 0xFF ? 2 : r.cp <= 0xFFFF ? 4 : 8;
            out.push_back(digits == 2 ? 'x' : digits == 4 ? 'u' : 'U');
            for (int d = digits - 1; d >= 0; --d) out.push_back(kHex[(r.cp >> (4 * d)) & 0xF]);
            next = i + 1 + r.len;
          } else {
            out.push_back('\\');
            out.push_back(n);
          }
      }
      i = next;
    }
    return out;
  }

  std::string_view src_;
  size_t pos_ = 0;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  if (source.size() >= std::numeric_limits<uint32_t>::max()) {
    throw TemplateError("TemplateSyntaxError", "chat template is larger than 4 GiB");
  }
  if (!utf8::is_valid(source)) {
    for (size_t i = 0; i < source.size();) {
      const utf8::ScanResult r = utf8::scan(source, i);
      if (r.kind != utf8::Scan::Valid) {
        syntax_error(source, static_cast<uint32_t>(i), "template source is not valid UTF-8");
      }
      i += r.len;
    }
  }
  return Lexer(source).run();
}

}  // namespace minima::jinja
