#include "runtime/grammar/json_strings.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <utility>
#include <vector>

#include "runtime/grammar/grammar.hpp"

namespace minima::grammar {
namespace {

using Ranges = std::vector<std::pair<char32_t, char32_t>>;

Ranges normalize(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (auto [lo, hi] : r) {
    if (!out.empty() && lo <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, hi);
    } else {
      out.emplace_back(lo, hi);
    }
  }
  return out;
}

Ranges complement(const Ranges& r) {
  Ranges out;
  char32_t next = 0;
  for (auto [lo, hi] : normalize(r)) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= 0x10FFFF) out.emplace_back(next, 0x10FFFF);
  return out;
}

std::string hex_escape(char32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(c));
  return buf;
}

// Grammar for one character of the set, in its JSON encoding: plain characters as a class,
// '"' and '\\' and control characters as escapes.
std::string set_gbnf(const Ranges& set) {
  Ranges plain;
  std::vector<std::string> alts;
  for (auto [lo, hi] : normalize(set)) {
    for (char32_t c = lo; c <= std::min<char32_t>(hi, 0x1F); ++c) {
      static const char* kShort[] = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                     nullptr, "\\b",   "\\t",   "\\n",   nullptr, "\\f",   "\\r"};
      if (c < 14 && kShort[c]) {
        alts.push_back(gbnf_literal(kShort[c]));
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
        alts.push_back(gbnf_literal(buf));
      }
    }
    if (hi < 0x20) continue;
    lo = std::max<char32_t>(lo, 0x20);
    for (char32_t special : {char32_t{'"'}, char32_t{'\\'}}) {
      if (lo <= special && special <= hi) {
        alts.push_back(gbnf_literal(special == '"' ? "\\\"" : "\\\\"));
        if (lo < special) plain.emplace_back(lo, special - 1);
        lo = special + 1;
      }
    }
    if (lo <= hi) plain.emplace_back(lo, hi);
  }
  if (!plain.empty()) {
    std::string cls = "[";
    for (auto [lo, hi] : plain)
      cls += lo == hi ? hex_escape(lo) : hex_escape(lo) + "-" + hex_escape(hi);
    alts.insert(alts.begin(), cls + "]");
  }
  if (alts.empty()) throw StringConstraintError("a character class that matches nothing");
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

// The shorthand classes are generated as sets every common regex dialect agrees on (ECMA-262,
// which JSON Schema specifies, and the Unicode-aware engines of validators such as Python's), so
// that an output matches the pattern whichever of them checks it; this narrows what may be
// generated, never what is valid. \d and \w are ASCII (ECMA's own); \s leaves out U+FEFF (not
// whitespace to Python); \S also leaves out what other dialects call whitespace; \D and \W are
// ASCII only (other dialects count Unicode digits and letters as \d / \w).
const Ranges kDigit = {{'0', '9'}};
const Ranges kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
const Ranges kSpace = {{'\t', '\r'},     {' ', ' '},       {0xA0, 0xA0},
                       {0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029},
                       {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}};
const Ranges kAnySpace = {{'\t', '\r'},     {0x1C, ' '},      {0x85, 0x85},     {0xA0, 0xA0},
                          {0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F},
                          {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
const Ranges kNotDigit = {{0, '0' - 1}, {'9' + 1, 0x7F}};
const Ranges kNotWord = {
    {0, '0' - 1}, {'9' + 1, 'A' - 1}, {'Z' + 1, '_' - 1}, {'`', '`'}, {'z' + 1, 0x7F}};
const Ranges kDot = complement({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}});

class Regex {
 public:
  explicit Regex(const std::string& s) : s_(s) {}

  std::string compile() {
    bool start = false, end = false;
    if (i_ < s_.size() && s_[i_] == '^') {
      start = true;
      ++i_;
    }
    std::string body = alternation();
    if (i_ < s_.size() && s_[i_] == '$' && i_ + 1 == s_.size()) {
      end = true;
      ++i_;
    }
    if (i_ != s_.size()) fail_here("unexpected '" + std::string(1, s_[i_]) + "'");
    const std::string pad = "json-char{0,100}";
    return "\"\\\"\" " + (start ? std::string() : pad + " ") + "(" + body + ") " +
           (end ? std::string() : pad + " ") + "\"\\\"\"";
  }

 private:
  [[noreturn]] void fail_here(const std::string& what) const {
    throw StringConstraintError(what + " at offset " + std::to_string(i_) + " of the pattern");
  }

  std::string alternation() {
    std::string out = concat();
    while (i_ < s_.size() && s_[i_] == '|') {
      ++i_;
      out += " | " + concat();
    }
    return out;
  }

  std::string concat() {
    std::string out;
    while (i_ < s_.size() && s_[i_] != '|' && s_[i_] != ')') {
      if (s_[i_] == '$' && i_ + 1 == s_.size()) break;
      std::string atom = quantified();
      out += (out.empty() ? "" : " ") + atom;
    }
    return out.empty() ? "\"\"" : out;
  }

  std::string quantified() {
    std::string a = atom();
    for (;;) {
      if (i_ >= s_.size()) break;
      const char c = s_[i_];
      std::string q;
      if (c == '*' || c == '+' || c == '?') {
        q = std::string(1, c);
        ++i_;
      } else if (c == '{' && i_ + 1 < s_.size() &&
                 std::isdigit(static_cast<unsigned char>(s_[i_ + 1]))) {
        const size_t close = s_.find('}', i_);
        if (close == std::string::npos) fail_here("unclosed '{'");
        q = s_.substr(i_, close - i_ + 1);
        for (char d : q.substr(1, q.size() - 2))
          if (!std::isdigit(static_cast<unsigned char>(d)) && d != ',')
            fail_here("bad repetition " + q);
        i_ = close + 1;
      } else {
        break;
      }
      if (i_ < s_.size() && s_[i_] == '?') ++i_;  // lazy: same strings
      a = "(" + a + ")" + q;
    }
    return a;
  }

  char32_t utf8_char() {
    const auto c = static_cast<unsigned char>(s_[i_]);
    const int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len && i_ + size_t(k) < s_.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s_[i_ + size_t(k)]) & 0x3F);
    i_ += size_t(len);
    return cp;
  }

  char32_t hex(int digits) {
    if (i_ + size_t(digits) > s_.size()) fail_here("unfinished hex escape");
    const std::string h = s_.substr(i_, size_t(digits));
    for (char d : h)
      if (!std::isxdigit(static_cast<unsigned char>(d))) fail_here("bad hex escape");
    i_ += size_t(digits);
    return static_cast<char32_t>(std::stoul(h, nullptr, 16));
  }

  // After a backslash: a set (\d \w \s ...) or one character.
  Ranges escape() {
    if (i_ >= s_.size()) fail_here("pattern ends in a backslash");
    const char e = s_[i_++];
    switch (e) {
      case 'd':
        return kDigit;
      case 'D':
        return kNotDigit;
      case 'w':
        return kWord;
      case 'W':
        return kNotWord;
      case 's':
        return kSpace;
      case 'S':
        return complement(kAnySpace);
      case 't':
        return {{'\t', '\t'}};
      case 'n':
        return {{'\n', '\n'}};
      case 'r':
        return {{'\r', '\r'}};
      case 'f':
        return {{'\f', '\f'}};
      case 'v':
        return {{'\v', '\v'}};
      case '0':
        return {{0, 0}};
      case 'x': {
        const char32_t c = hex(2);
        return {{c, c}};
      }
      case 'u': {
        const char32_t c = hex(4);
        return {{c, c}};
      }
      case 'b':
      case 'B':
        --i_;
        fail_here("word boundaries (\\b, \\B) are not supported");
      default:
        if (std::isdigit(static_cast<unsigned char>(e))) {
          --i_;
          fail_here("backreferences are not supported");
        }
        if (std::isalnum(static_cast<unsigned char>(e))) {
          --i_;
          fail_here("unknown escape \\" + std::string(1, e));
        }
        return {{char32_t(static_cast<unsigned char>(e)), char32_t(static_cast<unsigned char>(e))}};
    }
  }

  std::string atom() {
    const char c = s_[i_];
    if (c == '(') {
      ++i_;
      if (s_.compare(i_, 2, "?:") == 0) {
        i_ += 2;
      } else if (i_ < s_.size() && s_[i_] == '?') {
        fail_here("lookaround and named groups are not supported");
      }
      std::string inner = alternation();
      if (i_ >= s_.size() || s_[i_] != ')') fail_here("unclosed '('");
      ++i_;
      return "(" + inner + ")";
    }
    if (c == '[') return cls();
    if (c == '.') {
      ++i_;
      return set_gbnf(kDot);
    }
    if (c == '\\') {
      ++i_;
      return set_gbnf(escape());
    }
    if (c == '^' || c == '$')
      fail_here("'^' and '$' are supported only at the ends of the pattern");
    if (c == '*' || c == '+' || c == '?' || c == '{') fail_here("nothing to repeat");
    const char32_t cp = utf8_char();
    return set_gbnf({{cp, cp}});
  }

  // One member of a class: an escape (a set or one character) or one literal character.
  Ranges class_atom() {
    if (s_[i_] == '\\') {
      ++i_;
      return escape();
    }
    const char32_t cp = utf8_char();
    return {{cp, cp}};
  }

  std::string cls() {
    ++i_;  // '['
    bool negate = false;
    if (i_ < s_.size() && s_[i_] == '^') {
      negate = true;
      ++i_;
    }
    Ranges set;
    bool first = true;
    while (i_ < s_.size() && (s_[i_] != ']' || first)) {
      first = false;
      Ranges item = class_atom();
      if (item.size() == 1 && item[0].first == item[0].second && i_ + 1 < s_.size() &&
          s_[i_] == '-' && s_[i_ + 1] != ']') {
        ++i_;
        const Ranges hi_item = class_atom();
        if (hi_item.size() != 1 || hi_item[0].first != hi_item[0].second ||
            hi_item[0].first < item[0].first)
          fail_here("bad class range");
        item = {{item[0].first, hi_item[0].first}};
      }
      set.insert(set.end(), item.begin(), item.end());
    }
    if (i_ >= s_.size()) fail_here("unclosed '['");
    ++i_;
    return set_gbnf(negate ? complement(set) : set);
  }

  const std::string& s_;
  size_t i_ = 0;
};

const char* kDate =
    R"([1-9] [0-9]{3} "-" ( ("0" [13578] | "1" [02]) "-" ("0" [1-9] | [12] [0-9] | "3" [01]) | ("0" [469] | "11") "-" ("0" [1-9] | [12] [0-9] | "30") | "02-" ("0" [1-9] | "1" [0-9] | "2" [0-8]) ))";
const char* kTime =
    R"(([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9]))";

}  // namespace

std::string format_gbnf(const std::string& format) {
  std::string body;
  if (format == "date") {
    body = kDate;
  } else if (format == "time") {
    body = kTime;
  } else if (format == "date-time") {
    body = std::string("(") + kDate + ") \"T\" (" + kTime + ")";
  } else if (format == "uuid") {
    body = R"([0-9a-f]{8} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{12})";
  } else if (format == "email") {
    body =
        R"([a-z0-9]{1,20} ("." [a-z0-9]{1,20}){0,2} "@" [a-z0-9]{1,20} ("." [a-z0-9]{1,20}){0,2} "." [a-z]{2,6})";
  } else {
    throw StringConstraintError(
        "format '" + format + "' is not supported (supported: date, time, date-time, uuid, email)");
  }
  return "\"\\\"\" " + body + " \"\\\"\"";
}

std::string pattern_gbnf(const std::string& regex) {
  return Regex(regex).compile();
}

}  // namespace minima::grammar
