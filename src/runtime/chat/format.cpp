// Python string formatting: printf-style `fmt % args` (also the `format` filter) and
// str.format(). Covers the conversions templates use (s r d i f e g x o c %, fill/align/width/
// precision); exotic ones raise ValueError rather than print something different.
#include <cmath>
#include <cstdio>

#include "runtime/chat/args.hpp"
#include "runtime/chat/error.hpp"
#include "runtime/chat/interp.hpp"
#include "runtime/chat/ops.hpp"
#include "runtime/chat/pystr.hpp"
#include "runtime/chat/value_str.hpp"

namespace minima::jinja {

namespace {

std::string c_format(const std::string& spec, double d) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof buf, spec.c_str(), d);
  if (n < 0 || static_cast<size_t>(n) >= sizeof buf) value_error("formatted number is too long");
  return std::string(buf, static_cast<size_t>(n));
}

std::string c_format_int(const std::string& spec, long long v) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof buf, spec.c_str(), v);
  if (n < 0 || static_cast<size_t>(n) >= sizeof buf) value_error("formatted number is too long");
  return std::string(buf, static_cast<size_t>(n));
}

int64_t int_arg(const Value& v, char conv) {
  if (v.is_integral()) return v.int_value();
  if (v.is_float()) {
    if (!std::isfinite(v.float_value())) value_error("cannot convert float infinity to integer");
    return static_cast<int64_t>(v.float_value());
  }
  if (conv == 'x' || conv == 'X' || conv == 'o' || conv == 'c') {
    type_error(std::string("%") + conv + " format: an integer is required, not " + type_name(v));
  }
  type_error(std::string("%") + conv + " format: a real number is required, not " + type_name(v));
}

double float_arg(const Value& v, char conv) {
  if (v.is_number()) return v.float_value();
  type_error(std::string("must be real number, not ") + type_name(v) + (conv == 0 ? "" : ""));
}

std::string pad_to(std::string s, int64_t width, bool left, char fill) {
  const auto len = static_cast<int64_t>(pystr::length(s));
  if (width <= len) return s;
  const std::string padding(static_cast<size_t>(width - len), fill);
  return left ? s + padding : padding + s;
}

}  // namespace

Value percent_format(Interp& in, const Value& fmt_value, const Value& args) {
  const std::string& fmt = fmt_value.str();
  const bool markup = fmt_value.is_markup();
  List positional;
  const Dict* mapping = nullptr;
  // Python treats any non-tuple argument with __getitem__ as a possible mapping, so a list or
  // dict argument never triggers "not all arguments converted".
  bool mapping_like = false;
  if (args.is_tuple()) {
    positional = args.items();
  } else {
    positional.push_back(args);
    if (args.is_dict()) mapping = &args.dict();
    mapping_like = args.is_dict() || args.is_list() || args.is_undefined();
  }
  auto escape = [&](std::string s, const Value& v) {
    return markup && !v.is_markup() ? pystr::html_escape(s) : s;
  };
  size_t next = 0;
  bool used_mapping = false;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out.push_back(fmt[i]);
      continue;
    }
    if (++i >= fmt.size()) value_error("incomplete format");
    const Value* arg = nullptr;
    if (fmt[i] == '(') {
      const size_t close = fmt.find(')', i);
      if (close == std::string::npos) value_error("incomplete format key");
      if (args.is_undefined()) fail_undefined(args);
      if (mapping == nullptr) type_error("format requires a mapping");
      arg = mapping->find(std::string_view(fmt).substr(i + 1, close - i - 1));
      if (arg == nullptr) throw_error("KeyError", pystr::repr(fmt.substr(i + 1, close - i - 1)));
      used_mapping = true;
      i = close + 1;
    }
    std::string flags;
    while (i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos) {
      flags.push_back(fmt[i++]);
    }
    std::string width;
    while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])))
      width.push_back(fmt[i++]);
    std::string precision;
    bool has_precision = false;
    if (i < fmt.size() && fmt[i] == '.') {
      has_precision = true;
      ++i;
      while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])))
        precision.push_back(fmt[i++]);
    }
    while (i < fmt.size() && (fmt[i] == 'l' || fmt[i] == 'h' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) value_error("incomplete format");
    const char conv = fmt[i];
    if (conv == '%') {
      out.push_back('%');
      continue;
    }
    if (arg == nullptr) {
      if (next >= positional.size()) type_error("not enough arguments for format string");
      arg = &positional[next++];
    }
    if (arg->is_undefined() && conv != 's' && conv != 'r' && conv != 'a') fail_undefined(*arg);
    if (width.size() > 6 || precision.size() > 6) value_error("width or precision is too large");
    const int64_t w = width.empty() ? 0 : std::stoll(width);
    const bool left = flags.find('-') != std::string::npos;
    std::string piece;
    switch (conv) {
      case 's':
      case 'r':
      case 'a': {
        std::string s = conv == 's' ? in.str(*arg) : repr(*arg, in.max_output());
        if (has_precision) {
          const std::u32string u = pystr::decode(s);
          const size_t p = precision.empty() ? 0 : std::stoul(precision);
          if (p < u.size()) s = pystr::encode(std::u32string_view(u).substr(0, p));
        }
        piece = pad_to(escape(std::move(s), *arg), w, left, ' ');
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        const char c = conv == 'i' || conv == 'u' ? 'd' : conv;
        piece =
            c_format_int("%" + flags + width + (has_precision ? "." + precision : "") + "ll" + c,
                         static_cast<long long>(int_arg(*arg, conv)));
        break;
      }
      case 'c': {
        std::string s;
        if (arg->is_string() && pystr::length(arg->str()) == 1) {
          s = arg->str();
        } else {
          const int64_t cp = int_arg(*arg, 'c');
          if (cp < 0 || cp > 0x10FFFF)
            throw_error("OverflowError", "%c arg not in range(0x110000)");
          pystr::append(s, static_cast<char32_t>(cp));
        }
        piece = pad_to(s, w, left, ' ');
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        const double d = float_arg(*arg, conv);
        piece = c_format("%" + flags + width + (has_precision ? "." + precision : "") + conv, d);
        break;
      }
      default:
        value_error(std::string("unsupported format character '") + conv + "'");
    }
    out += piece;
    in.check_size(out.size());
  }
  if (!used_mapping && !mapping_like && next < positional.size()) {
    type_error("not all arguments converted during string formatting");
  }
  return in.make_string(std::move(out), markup);
}

namespace {

struct FormatSpec {
  char fill = ' ';
  char align = 0;  // < > ^ =
  char sign = '-';
  bool alt = false;
  bool zero = false;
  int64_t width = 0;
  int64_t precision = -1;
  char grouping = 0;
  char type = 0;
};

FormatSpec parse_spec(std::string_view s) {
  FormatSpec f;
  size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (s.size() >= 2 && is_align(s[1])) {
    f.fill = s[0];
    f.align = s[1];
    i = 2;
  } else if (!s.empty() && is_align(s[0])) {
    f.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) f.sign = s[i++];
  if (i < s.size() && s[i] == '#') {
    f.alt = true;
    ++i;
  }
  if (i < s.size() && s[i] == '0') {
    f.zero = true;
    ++i;
  }
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    if (++digits > 6) value_error("Too many decimal digits in format string");
    f.width = f.width * 10 + (s[i++] - '0');
  }
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) f.grouping = s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    f.precision = 0;
    digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (++digits > 6) value_error("Too many decimal digits in format string");
      f.precision = f.precision * 10 + (s[i++] - '0');
    }
  }
  if (i < s.size()) f.type = s[i++];
  if (i != s.size()) value_error("Invalid format specifier");
  return f;
}

std::string group_digits(const std::string& digits, char sep) {
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out.push_back(sep);
    out.push_back(digits[i]);
  }
  return out;
}

std::string align_text(const std::string& body, const std::string& sign, const FormatSpec& f,
                       char default_align) {
  const char align = f.align != 0 ? f.align : (f.zero ? '=' : default_align);
  const char fill = f.align == 0 && f.zero ? '0' : f.fill;
  const auto len = static_cast<int64_t>(pystr::length(body) + sign.size());
  if (f.width <= len) return sign + body;
  const auto pad = static_cast<size_t>(f.width - len);
  switch (align) {
    case '<':
      return sign + body + std::string(pad, fill);
    case '^':
      return std::string(pad / 2, fill) + sign + body + std::string(pad - pad / 2, fill);
    case '=':
      return sign + std::string(pad, fill) + body;
    default:
      return std::string(pad, fill) + sign + body;
  }
}

std::string format_value(Interp& in, const Value& v, std::string_view spec_text) {
  if (spec_text.empty()) return in.str(v);
  const FormatSpec f = parse_spec(spec_text);
  if (v.is_string()) {
    if (f.type != 0 && f.type != 's') {
      value_error(std::string("Unknown format code '") + f.type + "' for object of type 'str'");
    }
    std::string s = v.str();
    if (f.precision >= 0) {
      const std::u32string u = pystr::decode(s);
      if (static_cast<size_t>(f.precision) < u.size()) {
        s = pystr::encode(std::u32string_view(u).substr(0, static_cast<size_t>(f.precision)));
      }
    }
    return align_text(s, "", f, '<');
  }
  if (v.is_number()) {
    char type = f.type;
    const bool as_int = v.is_integral() && (type == 0 || std::string_view("dnbxXoc").find(type) !=
                                                             std::string_view::npos);
    if (as_int) {
      const int64_t i = v.int_value();
      const uint64_t mag = i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
      std::string digits;
      if (type == 'x' || type == 'X' || type == 'o' || type == 'b') {
        const int base = type == 'o' ? 8 : type == 'b' ? 2 : 16;
        uint64_t m = mag;
        do {
          digits.insert(digits.begin(), "0123456789abcdef"[m % static_cast<uint64_t>(base)]);
          m /= static_cast<uint64_t>(base);
        } while (m > 0);
        if (type == 'X') digits = pystr::upper(digits);
        if (f.alt)
          digits = std::string("0") + (type == 'o' ? 'o' : type == 'b' ? 'b' : type) + digits;
      } else if (type == 'c') {
        pystr::append(digits, static_cast<char32_t>(mag));
      } else {
        digits = std::to_string(mag);
        if (f.grouping != 0) digits = group_digits(digits, f.grouping);
      }
      const std::string sign = i < 0 ? "-" : f.sign == '+' ? "+" : f.sign == ' ' ? " " : "";
      return align_text(digits, sign, f, '>');
    }
    const double d = v.float_value();
    if (type == 'n') type = 'g';
    std::string body;
    if (type == 0 && f.precision < 0) {
      body = float_repr(std::fabs(d));
    } else {
      if (type == 0) type = 'g';
      const double shown = type == '%' ? std::fabs(d) * 100 : std::fabs(d);
      const char c = type == '%' ? 'f' : type;
      body = c_format(std::string("%") + (f.alt ? "#" : "") + "." +
                          std::to_string(f.precision < 0 ? 6 : f.precision) + c,
                      shown);
      if (type == '%') body += "%";
      if (f.grouping != 0) {
        const size_t dot = body.find_first_not_of("0123456789");
        body = group_digits(body.substr(0, dot), f.grouping) +
               (dot == std::string::npos ? "" : body.substr(dot));
      }
    }
    const std::string sign = std::signbit(d) && !std::isnan(d) ? "-"
                             : f.sign == '+'                   ? "+"
                             : f.sign == ' '                   ? " "
                                                               : "";
    return align_text(body, sign, f, '>');
  }
  type_error("unsupported format string passed to " + type_name(v) + ".__format__");
}

}  // namespace

std::string str_format(Interp& in, std::string_view fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  bool used_auto = false;
  bool used_manual = false;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      value_error("Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    // Find the matching close brace (format specs may nest one level of {}).
    size_t j = i + 1;
    int depth = 1;
    while (j < fmt.size() && depth > 0) {
      if (fmt[j] == '{') ++depth;
      if (fmt[j] == '}') --depth;
      if (depth > 0) ++j;
    }
    if (j >= fmt.size()) value_error("expected '}' before end of string");
    std::string_view field = fmt.substr(i + 1, j - i - 1);
    i = j;
    std::string_view spec;
    const size_t colon = field.find(':');
    if (colon != std::string_view::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    char conversion = 0;
    const size_t bang = field.find('!');
    if (bang != std::string_view::npos) {
      if (bang + 2 != field.size()) value_error("expected ':' after conversion specifier");
      conversion = field[bang + 1];
      field = field.substr(0, bang);
    }
    size_t name_end = 0;
    while (name_end < field.size() && field[name_end] != '.' && field[name_end] != '[') ++name_end;
    const std::string_view head = field.substr(0, name_end);
    Value v;
    if (head.empty()) {
      if (used_manual)
        value_error("cannot switch from manual field specification to automatic field numbering");
      used_auto = true;
      if (auto_index >= args.pos.size()) {
        throw_error("IndexError", "tuple index out of range");
      }
      v = args.pos[auto_index++];
    } else if (std::isdigit(static_cast<unsigned char>(head[0]))) {
      if (used_auto)
        value_error("cannot switch from automatic field numbering to manual field specification");
      used_manual = true;
      if (head.size() > 9) throw_error("IndexError", "tuple index out of range");
      const size_t idx = std::stoul(std::string(head));
      if (idx >= args.pos.size()) {
        throw_error("IndexError", "tuple index out of range");
      }
      v = args.pos[idx];
    } else {
      bool found = false;
      for (const auto& [k, val] : args.kw) {
        if (k == head) {
          v = val;
          found = true;
        }
      }
      if (!found) throw_error("KeyError", pystr::repr(head));
    }
    // .attr and [key] chains
    size_t p = name_end;
    while (p < field.size()) {
      if (field[p] == '.') {
        size_t q = p + 1;
        while (q < field.size() && field[q] != '.' && field[q] != '[') ++q;
        v = in.getattr(v, std::string(field.substr(p + 1, q - p - 1)));
        p = q;
      } else {
        const size_t q = field.find(']', p);
        if (q == std::string_view::npos) value_error("Missing ']' in format string");
        const std::string key(field.substr(p + 1, q - p - 1));
        const bool numeric = !key.empty() && key.size() < 18 &&
                             key.find_first_not_of("0123456789") == std::string::npos;
        v = in.getitem(v, numeric ? Value::integer(std::stoll(key)) : Value::string(key));
        p = q + 1;
      }
    }
    if (conversion == 'r' || conversion == 'a') {
      v = Value::string(repr(v, in.max_output()));
    } else if (conversion == 's') {
      v = Value::string(in.str(v));
    } else if (conversion != 0) {
      value_error(std::string("Unknown conversion specifier ") + conversion);
    }
    out += format_value(in, v, spec);
    in.check_size(out.size());
  }
  return out;
}

}  // namespace minima::jinja
