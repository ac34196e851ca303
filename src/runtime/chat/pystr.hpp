// Python str semantics over UTF-8 bytes: templates index, slice, strip, split and case-map strings
// the way Python does, which counts code points and uses Unicode's notion of whitespace and case.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minima::jinja::pystr {

std::u32string decode(std::string_view s);  // invalid UTF-8 becomes U+FFFD
std::string encode(std::u32string_view s);
void append(std::string& out, char32_t cp);
bool is_ascii(std::string_view s);
size_t length(std::string_view s);  // in code points

// Character classes as Python's str methods define them.
bool is_space(char32_t c);      // str.isspace / str.split() / str.strip()
bool is_linebreak(char32_t c);  // str.splitlines boundaries
bool is_alpha(char32_t c);
bool is_decimal(char32_t c);
bool is_digit(char32_t c);
bool is_numeric(char32_t c);
bool is_alnum(char32_t c);
bool is_upper(char32_t c);
bool is_lower(char32_t c);
bool is_cased(char32_t c);
bool is_printable(char32_t c);  // str.isprintable (what repr leaves unescaped)

// Python slicing of a sequence of n items: fills the indices that s[start:stop:step] selects.
// A missing bound is std::nullopt. step must not be 0.
std::vector<size_t> slice_indices(size_t n, std::optional<int64_t> start,
                                  std::optional<int64_t> stop, int64_t step);

// chars == nullptr strips whitespace.
std::string strip(std::string_view s, bool left, bool right, const std::u32string* chars = nullptr);
std::vector<std::string> split(std::string_view s, const std::string* sep, int64_t maxsplit);
std::vector<std::string> rsplit(std::string_view s, const std::string* sep, int64_t maxsplit);
std::vector<std::string> splitlines(std::string_view s, bool keepends);
// str.replace; count < 0 replaces all. An empty `old` inserts between code points, as Python does.
std::string replace(std::string_view s, std::string_view old, std::string_view with, int64_t count);
// str.find / str.rfind over code points; -1 when absent.
int64_t find(std::string_view s, std::string_view sub, bool from_right);
int64_t count(std::string_view s, std::string_view sub);

std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string title(std::string_view s);       // str.title
std::string capitalize(std::string_view s);  // str.capitalize
std::string swapcase(std::string_view s);

std::string repr(std::string_view s);         // Python repr of a str
std::string html_escape(std::string_view s);  // markupsafe.escape

}  // namespace minima::jinja::pystr
