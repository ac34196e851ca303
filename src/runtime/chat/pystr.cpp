#include "runtime/chat/pystr.hpp"

#include <unicode/ucasemap.h>
#include <unicode/uchar.h>

#include <memory>

#include "runtime/chat/error.hpp"
#include "runtime/tokenizer/utf8.hpp"

namespace minima::jinja::pystr {

std::u32string decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const utf8::ScanResult r = utf8::scan(s, i);
    out.push_back(r.cp);
    i += r.len;
  }
  return out;
}

void append(std::string& out, char32_t cp) {
  utf8::append(out, cp);
}

std::string encode(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) utf8::append(out, c);
  return out;
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

size_t length(std::string_view s) {
  size_t n = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
    } else {
      i += utf8::scan(s, i).len;
    }
    ++n;
  }
  return n;
}

bool is_space(char32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_linebreak(char32_t c) {
  return (c >= 0x0A && c <= 0x0D) || (c >= 0x1C && c <= 0x1E) || c == 0x85 || c == 0x2028 ||
         c == 0x2029;
}

namespace {

int8_t category(char32_t c) {
  return u_charType(static_cast<UChar32>(c));
}

int32_t numeric_type(char32_t c) {
  return u_getIntPropertyValue(static_cast<UChar32>(c), UCHAR_NUMERIC_TYPE);
}

}  // namespace

bool is_alpha(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  const int8_t t = category(c);
  return t == U_UPPERCASE_LETTER || t == U_LOWERCASE_LETTER || t == U_TITLECASE_LETTER ||
         t == U_MODIFIER_LETTER || t == U_OTHER_LETTER;
}

bool is_decimal(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return numeric_type(c) == U_NT_DECIMAL;
}

bool is_digit(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  const int32_t t = numeric_type(c);
  return t == U_NT_DECIMAL || t == U_NT_DIGIT;
}

bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return numeric_type(c) != U_NT_NONE;
}

bool is_alnum(char32_t c) {
  return is_alpha(c) || is_numeric(c);
}

bool is_upper(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z';
  return u_isUUppercase(static_cast<UChar32>(c)) != 0;
}

bool is_lower(char32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z';
  return u_isULowercase(static_cast<UChar32>(c)) != 0;
}

bool is_cased(char32_t c) {
  if (c < 0x80) return is_upper(c) || is_lower(c);
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_CASED) != 0;
}

bool is_printable(char32_t c) {
  if (c < 0x80) return c >= 0x20 && c < 0x7F;
  const int8_t t = category(c);
  return !(t == U_CONTROL_CHAR || t == U_FORMAT_CHAR || t == U_SURROGATE ||
           t == U_PRIVATE_USE_CHAR || t == U_UNASSIGNED || t == U_LINE_SEPARATOR ||
           t == U_PARAGRAPH_SEPARATOR || t == U_SPACE_SEPARATOR);
}

std::vector<size_t> slice_indices(size_t n, std::optional<int64_t> start,
                                  std::optional<int64_t> stop, int64_t step) {
  const auto len = static_cast<int64_t>(n);
  auto adjust = [len](int64_t i, int64_t lo, int64_t hi) {
    if (i < 0) i += len;
    if (i < lo) i = lo;
    if (i > hi) i = hi;
    return i;
  };
  std::vector<size_t> out;
  if (step > 0) {
    const int64_t b = start ? adjust(*start, 0, len) : 0;
    const int64_t e = stop ? adjust(*stop, 0, len) : len;
    for (int64_t i = b; i < e; i += step) out.push_back(static_cast<size_t>(i));
  } else {
    const int64_t b = start ? adjust(*start, -1, len - 1) : len - 1;
    const int64_t e = stop ? adjust(*stop, -1, len - 1) : -1;
    for (int64_t i = b; i > e; i += step) out.push_back(static_cast<size_t>(i));
  }
  return out;
}

std::string strip(std::string_view s, bool left, bool right, const std::u32string* chars) {
  auto stripped = [chars](char32_t c) {
    return chars == nullptr ? is_space(c) : chars->find(c) != std::u32string::npos;
  };
  // Work on byte offsets of code point boundaries so that the common ASCII case stays cheap.
  size_t b = 0;
  size_t e = s.size();
  if (left) {
    while (b < e) {
      const utf8::ScanResult r = utf8::scan(s, b);
      if (!stripped(r.cp)) break;
      b += r.len;
    }
  }
  if (right) {
    while (e > b) {
      size_t p = e - 1;
      while (p > b && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
      const utf8::ScanResult r = utf8::scan(s, p);
      if (p + r.len != e || !stripped(r.cp)) break;
      e = p;
    }
  }
  return std::string(s.substr(b, e - b));
}

std::vector<std::string> split(std::string_view s, const std::string* sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep != nullptr) {
    if (sep->empty()) value_error("empty separator");
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      const size_t at = s.find(*sep, pos);
      if (at == std::string_view::npos) break;
      out.emplace_back(s.substr(pos, at - pos));
      pos = at + sep->size();
    }
    out.emplace_back(s.substr(pos));
    return out;
  }
  const std::u32string u = decode(s);
  size_t i = 0;
  while (true) {
    while (i < u.size() && is_space(u[i])) ++i;
    if (i == u.size()) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
      out.push_back(encode(std::u32string_view(u).substr(i)));
      break;
    }
    size_t j = i;
    while (j < u.size() && !is_space(u[j])) ++j;
    out.push_back(encode(std::u32string_view(u).substr(i, j - i)));
    i = j;
  }
  return out;
}

std::vector<std::string> rsplit(std::string_view s, const std::string* sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep != nullptr) {
    if (sep->empty()) value_error("empty separator");
    size_t end = s.size();
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      if (end < sep->size()) break;
      const size_t at = s.rfind(*sep, end - sep->size());
      if (at == std::string_view::npos) break;
      out.emplace_back(s.substr(at + sep->size(), end - at - sep->size()));
      end = at;
    }
    out.emplace_back(s.substr(0, end));
  } else {
    const std::u32string u = decode(s);
    size_t j = u.size();
    while (true) {
      while (j > 0 && is_space(u[j - 1])) --j;
      if (j == 0) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
        out.push_back(encode(std::u32string_view(u).substr(0, j)));
        break;
      }
      size_t i = j;
      while (i > 0 && !is_space(u[i - 1])) --i;
      out.push_back(encode(std::u32string_view(u).substr(i, j - i)));
      j = i;
    }
  }
  return {out.rbegin(), out.rend()};
}

std::vector<std::string> splitlines(std::string_view s, bool keepends) {
  const std::u32string u = decode(s);
  std::vector<std::string> out;
  size_t i = 0;
  while (i < u.size()) {
    size_t j = i;
    while (j < u.size() && !is_linebreak(u[j])) ++j;
    size_t eol = j;
    if (j < u.size()) {
      eol = (u[j] == '\r' && j + 1 < u.size() && u[j + 1] == '\n') ? j + 2 : j + 1;
    }
    out.push_back(encode(std::u32string_view(u).substr(i, (keepends ? eol : j) - i)));
    i = eol;
  }
  return out;
}

std::string replace(std::string_view s, std::string_view old, std::string_view with,
                    int64_t count) {
  std::string out;
  if (old.empty()) {
    size_t i = 0;
    int64_t done = 0;
    while (true) {
      if (count < 0 || done < count) {
        out.append(with);
        ++done;
      }
      if (i >= s.size()) break;
      const size_t len = utf8::scan(s, i).len;
      out.append(s.substr(i, len));
      i += len;
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t at = s.find(old, pos);
    if (at == std::string_view::npos) break;
    out.append(s.substr(pos, at - pos));
    out.append(with);
    pos = at + old.size();
    ++done;
  }
  out.append(s.substr(pos));
  return out;
}

int64_t find(std::string_view s, std::string_view sub, bool from_right) {
  const size_t at = from_right ? s.rfind(sub) : s.find(sub);
  if (at == std::string_view::npos) return -1;
  return static_cast<int64_t>(length(s.substr(0, at)));
}

int64_t count(std::string_view s, std::string_view sub) {
  if (sub.empty()) return static_cast<int64_t>(length(s)) + 1;
  int64_t n = 0;
  size_t pos = 0;
  while ((pos = s.find(sub, pos)) != std::string_view::npos) {
    ++n;
    pos += sub.size();
  }
  return n;
}

namespace {

using CaseFn = int32_t (*)(const UCaseMap*, char*, int32_t, const char*, int32_t, UErrorCode*);

// Full Unicode case mapping (ß -> SS), as Python's str.upper/str.lower do.
std::string icu_case(std::string_view s, CaseFn fn) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<UCaseMap, void (*)(UCaseMap*)> map(ucasemap_open("", 0, &status), ucasemap_close);
  if (U_FAILURE(status)) runtime_error("ICU case mapping is unavailable");
  const std::string src = utf8::sanitize(s);
  std::string out(src.size() + 16, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    status = U_ZERO_ERROR;
    const int32_t n = fn(map.get(), out.data(), static_cast<int32_t>(out.size()), src.data(),
                         static_cast<int32_t>(src.size()), &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      out.assign(static_cast<size_t>(n) + 1, '\0');
      continue;
    }
    if (U_FAILURE(status)) runtime_error("ICU case mapping failed");
    out.resize(static_cast<size_t>(n));
    return out;
  }
  runtime_error("ICU case mapping failed");
}

char32_t to_upper_cp(char32_t c) {
  return static_cast<char32_t>(u_toupper(static_cast<UChar32>(c)));
}
char32_t to_lower_cp(char32_t c) {
  return static_cast<char32_t>(u_tolower(static_cast<UChar32>(c)));
}
char32_t to_title_cp(char32_t c) {
  return static_cast<char32_t>(u_totitle(static_cast<UChar32>(c)));
}

}  // namespace

std::string upper(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return out;
  }
  return icu_case(s, ucasemap_utf8ToUpper);
}

std::string lower(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  return icu_case(s, ucasemap_utf8ToLower);
}

std::string title(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool previous_cased = false;
  for (char32_t c : decode(s)) {
    append(out, previous_cased ? to_lower_cp(c) : to_title_cp(c));
    previous_cased = is_cased(c);
  }
  return out;
}

std::string capitalize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool first = true;
  for (char32_t c : decode(s)) {
    append(out, first ? to_title_cp(c) : to_lower_cp(c));
    first = false;
  }
  return out;
}

std::string swapcase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : decode(s)) {
    if (is_upper(c)) {
      append(out, to_lower_cp(c));
    } else if (is_lower(c)) {
      append(out, to_upper_cp(c));
    } else {
      append(out, c);
    }
  }
  return out;
}

std::string repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back(quote);
  size_t i = 0;
  while (i < s.size()) {
    const utf8::ScanResult r = utf8::scan(s, i);
    const char32_t c = r.cp;
    i += r.len;
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (is_printable(c)) {
      append(out, c);
    } else {
      int digits = 8;
      if (c <= 0xFF) {
        out += "\\x";
        digits = 2;
      } else if (c <= 0xFFFF) {
        out += "\\u";
        digits = 4;
      } else {
        out += "\\U";
      }
      for (int k = digits - 1; k >= 0; --k) out.push_back(kHex[(c >> (4 * k)) & 0xF]);
    }
  }
  out.push_back(quote);
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '"':
        out += "&#34;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace minima::jinja::pystr
