#include "runtime/chat/strftime.hpp"

#include <array>
#include <cstdio>

#include "core/error.hpp"

namespace minima::jinja {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr std::array<const char*, 7> kDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                              "Thursday", "Friday", "Saturday"};
constexpr std::array<const char*, 12> kMonths = {"January",   "February", "March",    "April",
                                                 "May",       "June",     "July",     "August",
                                                 "September", "October",  "November", "December"};

// ISO 8601 week-based year and week number.
void iso_week(const std::tm& t, int& year, int& week) {
  const int wday = (t.tm_wday + 6) % 7;  // Monday = 0
  year = t.tm_year + 1900;
  week = (t.tm_yday - wday + 10) / 7;
  if (week < 1) {
    --year;
    const int days = leap(year) ? 366 : 365;
    week = (t.tm_yday + days - wday + 10) / 7;
  } else {
    const int days = leap(year) ? 366 : 365;
    if (t.tm_yday - wday + 3 >= days) {
      ++year;
      week = 1;
    }
  }
}

}  // namespace

std::tm parse_iso_time(std::string_view iso) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char sep = 0;
  const std::string text(iso);
  const int n =
      std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &sep, &h, &mi, &s);
  if (!(n == 3 || n >= 6) || (n >= 4 && sep != 'T' && sep != ' ') || mo < 1 || mo > 12 || d < 1 ||
      d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) {
    throw Error("strftime_now time '" + text + "' is not of the form YYYY-MM-DDTHH:MM:SS");
  }
  std::tm t{};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = s;
  const int64_t days = days_from_civil(y, mo, d);
  t.tm_wday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  t.tm_yday = static_cast<int>(days - days_from_civil(y, 1, 1));
  t.tm_isdst = -1;
  return t;
}

std::tm local_now() {
  const std::time_t now = std::time(nullptr);
  std::tm t{};
  localtime_r(&now, &t);
  return t;
}

std::string py_strftime(std::string_view fmt, const std::tm& t) {
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%' || i + 1 >= fmt.size()) {
      out.push_back(fmt[i]);
      continue;
    }
    char flag = 0;
    size_t j = i + 1;
    if (fmt[j] == '-' || fmt[j] == '_' || fmt[j] == '0' || fmt[j] == '^') flag = fmt[j++];
    if (j >= fmt.size()) {
      out.append(fmt.substr(i));
      break;
    }
    const char c = fmt[j];
    auto num = [&](int v, int width, char pad) {
      std::string digits = std::to_string(v);
      const char p = flag == '_' ? ' ' : flag == '0' ? '0' : pad;
      if (flag != '-' && static_cast<int>(digits.size()) < width) {
        digits.insert(0, static_cast<size_t>(width) - digits.size(), p);
      }
      out += digits;
    };
    auto text = [&](std::string s) {
      if (flag == '^') {
        for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      }
      out += s;
    };
    const int hour12 = t.tm_hour % 12 == 0 ? 12 : t.tm_hour % 12;
    switch (c) {
      case 'a':
        text(std::string(kDays[static_cast<size_t>(t.tm_wday)]).substr(0, 3));
        break;
      case 'A':
        text(kDays[static_cast<size_t>(t.tm_wday)]);
        break;
      case 'b':
      case 'h':
        text(std::string(kMonths[static_cast<size_t>(t.tm_mon)]).substr(0, 3));
        break;
      case 'B':
        text(kMonths[static_cast<size_t>(t.tm_mon)]);
        break;
      case 'c':
        out += py_strftime("%a %b %e %H:%M:%S %Y", t);
        break;
      case 'C':
        num((t.tm_year + 1900) / 100, 2, '0');
        break;
      case 'd':
        num(t.tm_mday, 2, '0');
        break;
      case 'D':
        out += py_strftime("%m/%d/%y", t);
        break;
      case 'e':
        num(t.tm_mday, 2, ' ');
        break;
      case 'f':
        out += "000000";
        break;
      case 'F':
        out += py_strftime("%Y-%m-%d", t);
        break;
      case 'g':
      case 'G':
      case 'V': {
        int year = 0;
        int week = 0;
        iso_week(t, year, week);
        if (c == 'G') num(year, 1, '0');
        if (c == 'g') num(year % 100, 2, '0');
        if (c == 'V') num(week, 2, '0');
        break;
      }
      case 'H':
        num(t.tm_hour, 2, '0');
        break;
      case 'I':
        num(hour12, 2, '0');
        break;
      case 'j':
        num(t.tm_yday + 1, 3, '0');
        break;
      case 'k':
        num(t.tm_hour, 2, ' ');
        break;
      case 'l':
        num(hour12, 2, ' ');
        break;
      case 'm':
        num(t.tm_mon + 1, 2, '0');
        break;
      case 'M':
        num(t.tm_min, 2, '0');
        break;
      case 'n':
        out += '\n';
        break;
      case 'p':
        text(t.tm_hour < 12 ? "AM" : "PM");
        break;
      case 'P':
        out += t.tm_hour < 12 ? "am" : "pm";
        break;
      case 'r':
        out += py_strftime("%I:%M:%S %p", t);
        break;
      case 'R':
        out += py_strftime("%H:%M", t);
        break;
      case 'S':
        num(t.tm_sec, 2, '0');
        break;
      case 't':
        out += '\t';
        break;
      case 'T':
        out += py_strftime("%H:%M:%S", t);
        break;
      case 'u':
        num(t.tm_wday == 0 ? 7 : t.tm_wday, 1, '0');
        break;
      case 'U':
        num((t.tm_yday + 7 - t.tm_wday) / 7, 2, '0');
        break;
      case 'w':
        num(t.tm_wday, 1, '0');
        break;
      case 'W':
        num((t.tm_yday + 7 - (t.tm_wday + 6) % 7) / 7, 2, '0');
        break;
      case 'x':
        out += py_strftime("%m/%d/%y", t);
        break;
      case 'X':
        out += py_strftime("%H:%M:%S", t);
        break;
      case 'y':
        num((t.tm_year + 1900) % 100, 2, '0');
        break;
      case 'Y':
        num(t.tm_year + 1900, 1, '0');
        break;
      case 'z':
      case 'Z':
        break;  // a naive datetime has no zone
      case '%':
        out += '%';
        break;
      default:
        out.append(fmt.substr(i, j - i + 1));
    }
    i = j;
  }
  return out;
}

}  // namespace minima::jinja
