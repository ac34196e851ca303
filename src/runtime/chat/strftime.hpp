// strftime for `strftime_now(fmt)`: Python's datetime.strftime on a naive local time, in the C
// locale (glibc's directives, including the `-` no-padding flag that "%-d" uses).
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace minima::jinja {

// Parses "YYYY-MM-DDTHH:MM:SS" (a space instead of T, and no seconds, are accepted too);
// weekday and day of year are derived. Throws Error on a malformed time.
std::tm parse_iso_time(std::string_view iso);
// The current local time.
std::tm local_now();
std::string py_strftime(std::string_view fmt, const std::tm& t);

}  // namespace minima::jinja
