#include "runtime/grammar/grammar.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "runtime/grammar/builder.hpp"

namespace minima::grammar {
namespace {

// Recursive-descent parser of the text form into the Builder's AST.
class Parser {
 public:
  explicit Parser(std::string_view src) : s_(src) {}

  void parse(Builder& b) {
    skip_space(true);
    while (i_ < s_.size()) {
      const size_t at = i_;
      const std::string name = parse_name();
      if (name.empty()) error(at, "expected a rule name");
      skip_space(true);
      if (s_.substr(i_, 3) != "::=") error(i_, "expected '::=' after rule name '", name, "'");
      i_ += 3;
      skip_space(true);
      Node body = parse_alternatives(0);
      b.define(name, std::move(body), where(at));
      skip_space(true);
    }
  }

 private:
  template <class... P>
  [[noreturn]] void error(size_t at, P&&... parts) const {
    fail_grammar(where(at), ": ", std::forward<P>(parts)...);
  }
  template <class... P>
  [[noreturn]] static void fail_grammar(P&&... parts) {
    std::ostringstream os;
    (os << ... << std::forward<P>(parts));
    throw GrammarError(os.str());
  }

  std::string where(size_t at) const {
    size_t line = 1, col = 1;
    for (size_t k = 0; k < at && k < s_.size(); ++k) {
      if (s_[k] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return "grammar line " + std::to_string(line) + ", column " + std::to_string(col);
  }

  static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  }

  std::string parse_name() {
    const size_t b = i_;
    while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    return std::string(s_.substr(b, i_ - b));
  }

  // Spaces and comments; newlines too when `newlines` (inside a rule body they are also skipped:
  // a rule ends where the next `name ::=` starts).
  void skip_space(bool newlines) {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (c == ' ' || c == '\t' || c == '\r' || (newlines && c == '\n')) {
        ++i_;
      } else {
        break;
      }
    }
  }

  // True when the input at i_ is `name ::=`: the start of the next rule.
  bool at_rule_start() const {
    size_t k = i_;
    while (k < s_.size() && name_char(s_[k])) ++k;
    if (k == i_) return false;
    while (k < s_.size() && (s_[k] == ' ' || s_[k] == '\t' || s_[k] == '\r' || s_[k] == '\n')) ++k;
    return s_.substr(k, 3) == "::=";
  }

  Node parse_alternatives(int depth) {
    Node alt{Node::Kind::Alt};
    alt.kids.push_back(parse_sequence(depth));
    for (;;) {
      skip_space(true);
      if (i_ < s_.size() && s_[i_] == '|') {
        ++i_;
        alt.kids.push_back(parse_sequence(depth));
      } else {
        break;
      }
    }
    return alt;
  }

  Node parse_sequence(int depth) {
    Node seq{Node::Kind::Seq};
    for (;;) {
      skip_space(true);
      if (i_ >= s_.size()) break;
      const char c = s_[i_];
      if (c == '|' || c == ')') break;
      if (depth == 0 && at_rule_start()) break;
      seq.kids.push_back(parse_postfix(depth));
    }
    return seq;
  }

  Node parse_postfix(int depth) {
    Node x = parse_primary(depth);
    for (;;) {
      if (i_ >= s_.size()) break;
      const char c = s_[i_];
      int64_t lo = 0, hi = -1;
      if (c == '*') {
        ++i_;
      } else if (c == '+') {
        ++i_;
        lo = 1;
      } else if (c == '?') {
        ++i_;
        hi = 1;
      } else if (c == '{') {
        const size_t at = i_++;
        lo = parse_int(at);
        hi = lo;
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          hi = (i_ < s_.size() && s_[i_] == '}') ? -1 : parse_int(at);
        }
        if (i_ >= s_.size() || s_[i_] != '}') error(at, "expected '}' to close the repetition");
        ++i_;
        if (hi >= 0 && hi < lo) error(at, "repetition {", lo, ",", hi, "} has max < min");
        if (lo > 100000 || hi > 100000) error(at, "repetition count above 100000");
      } else {
        break;
      }
      Node r{Node::Kind::Repeat};
      r.lo = lo;
      r.hi = hi;
      r.kids.push_back(std::move(x));
      x = std::move(r);
    }
    return x;
  }

  int64_t parse_int(size_t at) {
    const size_t b = i_;
    int64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9' && i_ - b < 9)
      v = v * 10 + (s_[i_++] - '0');
    if (i_ == b) error(at, "expected a number in the repetition");
    return v;
  }

  // One code point of literal or class text, with escapes.
  char32_t parse_char(size_t at) {
    const unsigned char c = static_cast<unsigned char>(s_[i_]);
    if (c == '\\') {
      if (i_ + 1 >= s_.size()) error(at, "unfinished escape");
      const char e = s_[i_ + 1];
      i_ += 2;
      switch (e) {
        case 'n':
          return '\n';
        case 'r':
          return '\r';
        case 't':
          return '\t';
        case '0':
          return 0;
        case '\\':
        case '"':
        case '\'':
        case '[':
        case ']':
        case '-':
        case '^':
        case '/':
          return static_cast<char32_t>(e);
        case 'x':
          return parse_hex(2, at);
        case 'u':
          return parse_hex(4, at);
        case 'U':
          return parse_hex(8, at);
        default:
          error(i_ - 2, "unknown escape '\\", e, "'");
      }
    }
    // A UTF-8 sequence: decode it.
    int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (c >= 0x80 && c < 0xC2) error(i_, "invalid UTF-8 in the grammar");
    if (i_ + size_t(len) > s_.size()) error(i_, "truncated UTF-8 in the grammar");
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; ++k) {
      const unsigned char d = static_cast<unsigned char>(s_[i_ + size_t(k)]);
      if ((d & 0xC0) != 0x80) error(i_, "invalid UTF-8 in the grammar");
      cp = (cp << 6) | (d & 0x3F);
    }
    i_ += size_t(len);
    return cp;
  }

  char32_t parse_hex(int digits, size_t at) {
    char32_t v = 0;
    for (int k = 0; k < digits; ++k) {
      if (i_ >= s_.size()) error(at, "unfinished hex escape");
      const char h = s_[i_++];
      int d = h >= '0' && h <= '9'   ? h - '0'
              : h >= 'a' && h <= 'f' ? h - 'a' + 10
              : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                     : -1;
      if (d < 0) error(i_ - 1, "bad hex digit '", h, "'");
      v = v * 16 + char32_t(d);
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
      error(at, "escape is not a Unicode scalar value");
    return v;
  }

  Node parse_primary(int depth) {
    const size_t at = i_;
    const char c = s_[i_];
    if (c == '"') {
      ++i_;
      Node seq{Node::Kind::Seq};
      while (i_ < s_.size() && s_[i_] != '"') {
        if (s_[i_] == '\n') error(at, "unterminated string literal");
        const char32_t cp = parse_char(at);
        seq.kids.push_back(Node::chars({{cp, cp}}));
      }
      if (i_ >= s_.size()) error(at, "unterminated string literal");
      ++i_;
      return seq;
    }
    if (c == '[') {
      ++i_;
      bool negate = false;
      if (i_ < s_.size() && s_[i_] == '^') {
        negate = true;
        ++i_;
      }
      std::vector<std::pair<char32_t, char32_t>> ranges;
      while (i_ < s_.size() && s_[i_] != ']') {
        const char32_t lo = parse_char(at);
        char32_t hi = lo;
        if (i_ + 1 < s_.size() && s_[i_] == '-' && s_[i_ + 1] != ']') {
          ++i_;
          hi = parse_char(at);
          if (hi < lo) error(at, "class range with end before start");
        }
        ranges.emplace_back(lo, hi);
      }
      if (i_ >= s_.size()) error(at, "unterminated character class");
      ++i_;
      return Node::chars(negate ? complement(ranges) : ranges);
    }
    if (c == '.') {
      ++i_;
      return Node::chars({{0, 0x10FFFF}});
    }
    if (c == '(') {
      ++i_;
      Node inner = parse_alternatives(depth + 1);
      skip_space(true);
      if (i_ >= s_.size() || s_[i_] != ')') error(at, "unclosed '('");
      ++i_;
      return inner;
    }
    if (name_char(c)) {
      Node r{Node::Kind::Ref};
      r.name = parse_name();
      r.where = where(at);
      return r;
    }
    error(at, "unexpected character '", c, "'");
  }

  static std::vector<std::pair<char32_t, char32_t>> complement(
      std::vector<std::pair<char32_t, char32_t>> r) {
    std::sort(r.begin(), r.end());
    std::vector<std::pair<char32_t, char32_t>> out;
    char32_t next = 0;
    for (auto [lo, hi] : r) {
      if (lo > next) out.emplace_back(next, lo - 1);
      next = std::max<char32_t>(next, hi + 1);
    }
    if (next <= 0x10FFFF) out.emplace_back(next, 0x10FFFF);
    return out;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

Grammar Grammar::parse(std::string_view text) {
  Builder b;
  Parser(text).parse(b);
  return b.build("root");
}

std::string gbnf_literal(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

}  // namespace minima::grammar
