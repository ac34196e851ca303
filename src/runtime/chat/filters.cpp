// The filter table, the filters that are neither about strings nor sequences (default, int,
// float, round, abs, attr, tojson) and the helpers the filter files share.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "runtime/chat/args.hpp"
#include "runtime/chat/error.hpp"
#include "runtime/chat/filters_impl.hpp"
#include "runtime/chat/json_value.hpp"
#include "runtime/chat/parser.hpp"
#include "runtime/chat/pystr.hpp"
#include "runtime/chat/value_str.hpp"

namespace minima::jinja::filters {

Value soft_str(Interp& in, const Value& v) {
  if (v.is_string()) return v;
  return Value::string(in.str(v));
}

Value lower_if_string(const Value& v) {
  return v.is_string() ? Value::string(pystr::lower(v.str())) : v;
}

Value generator(const char* name, const std::function<void(List&)>& produce, const char* type) {
  auto st = std::make_shared<IteratorState>();
  st->type = type;
  st->name = name;
  try {
    produce(st->items);
  } catch (const TemplateError& e) {
    if (e.kind() == "LimitError") throw;
    st->failed = true;
    st->error_kind = e.kind();
    st->error_message = e.what();
  }
  return Value::iterator(std::move(st));
}

namespace {

// Python's numeric literal body: digits with single underscores between them.
bool valid_digits(std::string_view s, int base) {
  if (s.empty() || s.front() == '_' || s.back() == '_') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      if (s[i + 1] == '_') return false;
      continue;
    }
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
      d = (c | 0x20) - 'a' + 10;
    } else {
      return false;
    }
    if (d >= base) return false;
  }
  return true;
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && pystr::is_space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && pystr::is_space(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<int64_t> parse_int(std::string_view s, int base) {
  s = trim_ws(s);
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.size() > 2 && s[0] == '0') {
    const char p = static_cast<char>(s[1] | 0x20);
    const int prefixed = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
    if (prefixed != 0 && (base == prefixed || base == 0)) {
      base = prefixed;
      s.remove_prefix(2);
      if (!s.empty() && s[0] == '_') s.remove_prefix(1);
    }
  }
  if (base == 0) base = 10;
  if (!valid_digits(s, base)) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c == '_') continue;
    const int d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v)) {
      limit_error("integer does not fit in 64 bits");
    }
  }
  return neg ? -v : v;
}

std::optional<double> parse_float(std::string_view s) {
  s = trim_ws(s);
  std::string body(s);
  std::string lower = pystr::lower(body);
  std::string_view l = lower;
  if (!l.empty() && (l[0] == '+' || l[0] == '-')) l.remove_prefix(1);
  if (l == "inf" || l == "infinity" || l == "nan") {
    const double v = l == "nan" ? NAN : INFINITY;
    return s[0] == '-' ? -v : v;
  }
  // Validate Python's grammar: [sign] digits [. digits] [e [sign] digits], underscores only
  // between digits.
  std::string clean;
  size_t i = 0;
  if (i < body.size() && (body[i] == '+' || body[i] == '-')) clean.push_back(body[i++]);
  auto digits = [&](bool required) {
    const size_t start = i;
    while (i < body.size() && (std::isdigit(static_cast<unsigned char>(body[i])) || body[i] == '_'))
      ++i;
    const std::string_view run = std::string_view(body).substr(start, i - start);
    if (run.empty()) return !required;
    if (!valid_digits(run, 10)) return false;
    for (char c : run) {
      if (c != '_') clean.push_back(c);
    }
    return true;
  };
  const size_t int_start = i;
  if (!digits(false)) return std::nullopt;
  bool have_digits = i > int_start;
  if (i < body.size() && body[i] == '.') {
    clean.push_back('.');
    ++i;
    const size_t frac_start = i;
    if (!digits(false)) return std::nullopt;
    have_digits = have_digits || i > frac_start;
  }
  if (!have_digits) return std::nullopt;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    clean.push_back('e');
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) clean.push_back(body[i++]);
    if (!digits(true)) return std::nullopt;
  }
  if (i != body.size()) return std::nullopt;
  return std::strtod(clean.c_str(), nullptr);
}

AttrGetter::AttrGetter(const Value& attribute, std::optional<Value> fallback, bool lower)
    : fallback_(std::move(fallback)), lower_(lower) {
  if (attribute.is_none() || attribute.is_undefined()) return;
  if (!attribute.is_string()) {
    parts_.push_back(attribute);
    return;
  }
  const std::string dot = ".";
  for (std::string& p : pystr::split(attribute.str(), &dot, -1)) {
    const bool digits =
        !p.empty() && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; });
    parts_.push_back(digits && p.size() < 19 ? Value::integer(std::stoll(p)) : Value::string(p));
  }
}

Value AttrGetter::operator()(Interp& in, const Value& item) const {
  Value v = item;
  for (const Value& part : parts_) {
    v = in.getitem(v, part);
    if (fallback_ && v.is_undefined()) v = *fallback_;
  }
  return lower_ ? lower_if_string(v) : v;
}

void stable_sort(List& items, const std::function<bool(const Value&, const Value&)>& less) {
  // Bottom-up merge sort; takes the left element unless the right one is strictly less.
  List buf(items.size());
  for (size_t width = 1; width < items.size(); width *= 2) {
    for (size_t lo = 0; lo < items.size(); lo += 2 * width) {
      const size_t mid = std::min(lo + width, items.size());
      const size_t hi = std::min(lo + 2 * width, items.size());
      size_t i = lo;
      size_t j = mid;
      size_t k = lo;
      while (i < mid && j < hi) buf[k++] = less(items[j], items[i]) ? items[j++] : items[i++];
      while (i < mid) buf[k++] = items[i++];
      while (j < hi) buf[k++] = items[j++];
    }
    items.swap(buf);
  }
}

namespace {

Value f_abs(Interp&, const Value& v, CallArgs& args) {
  const Args a("do_abs", args, {});
  if (v.is_float()) return Value::number(std::fabs(v.float_value()));
  if (v.is_integral()) {
    if (v.int_value() == INT64_MIN) limit_error("integer does not fit in 64 bits");
    return Value::integer(std::llabs(v.int_value()));
  }
  type_error("bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_attr(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_attr", args, {"name"});
  if (!a.has(0)) type_error("do_attr() missing 1 required positional argument: 'name'");
  const std::string name = in.str(a.get(0));
  // Only real attributes (methods, namespace and loop attributes), never dict items.
  if (v.is_undefined()) fail_undefined(v);
  if (has_method(v, name) || v.is_namespace() || v.is_loop()) return in.getattr(v, name);
  return Value::undefined(pystr::repr(object_type_repr(v)) + " has no attribute " +
                          pystr::repr(name));
}

Value f_default(Interp&, const Value& v, CallArgs& args) {
  const Args a("do_default", args, {"default_value", "boolean"});
  if (v.is_undefined() || (a.get_bool(1, false) && !truthy(v))) {
    return a.get_or(0, Value::string(""));
  }
  return v;
}

Value f_int(Interp&, const Value& v, CallArgs& args) {
  const Args a("do_int", args, {"default", "base"});
  const Value fallback = a.get_or(0, Value::integer(0));
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_integral()) return Value::integer(v.int_value());
  if (v.is_float()) {
    const double d = v.float_value();
    if (!std::isfinite(d)) return fallback;
    if (std::fabs(d) >= 9.2e18) limit_error("integer does not fit in 64 bits");
    return Value::integer(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    const int64_t base = a.get_int(1, 10);
    if (base != 0 && (base < 2 || base > 36))
      value_error("int() base must be >= 2 and <= 36, or 0");
    if (auto i = parse_int(v.str(), static_cast<int>(base))) return Value::integer(*i);
    if (auto d = parse_float(v.str())) {
      if (!std::isfinite(*d)) return fallback;
      if (std::fabs(*d) >= 9.2e18) limit_error("integer does not fit in 64 bits");
      return Value::integer(static_cast<int64_t>(*d));
    }
  }
  return fallback;
}

Value f_float(Interp&, const Value& v, CallArgs& args) {
  const Args a("do_float", args, {"default"});
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_number()) return Value::number(v.float_value());
  if (v.is_string()) {
    if (auto d = parse_float(v.str())) return Value::number(*d);
  }
  return a.get_or(0, Value::number(0.0));
}

// Python's round(x, n) for floats: correct decimal rounding of the exact binary value, ties to
// even (glibc's printf rounds the same way).
double round_float(double x, int64_t n) {
  if (!std::isfinite(x) || n > 300) return x;
  if (n >= 0) {
    char buf[400];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(n), x);
    return std::strtod(buf, nullptr);
  }
  if (n < -308) return 0.0 * x;
  const double p = std::pow(10.0, static_cast<double>(-n));
  const double y = std::nearbyint(x / p) * p;
  return std::isfinite(y) ? y : x;
}

Value f_round(Interp&, const Value& v, CallArgs& args) {
  const Args a("do_round", args, {"precision", "method"});
  const int64_t precision = a.get_int(0, 0);
  const std::string method = a.has(1) ? (a.get(1).is_string() ? a.get(1).str() : "") : "common";
  if (method != "common" && method != "ceil" && method != "floor") {
    throw_error("FilterArgumentError", "method must be common, ceil or floor");
  }
  if (!v.is_number()) {
    type_error("type " + type_name(v) + " doesn't define __round__ method");
  }
  if (method == "common") {
    if (v.is_integral()) {
      if (precision >= 0) return Value::integer(v.int_value());
      const double r = round_float(static_cast<double>(v.int_value()), precision);
      return Value::integer(static_cast<int64_t>(r));
    }
    return Value::number(round_float(v.float_value(), precision));
  }
  const double p = std::pow(10.0, static_cast<double>(precision));
  const double scaled = v.float_value() * p;
  return Value::number((method == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / p);
}

Value f_tojson(Interp& in, const Value& v, CallArgs& args) {
  const Args a("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonStyle style;
  style.ensure_ascii = a.get_bool(0, false);
  if (a.given(1)) {
    const Value& ind = a.get(1);
    if (ind.is_string()) {
      style.indent = ind.str();
    } else if (ind.is_integral()) {
      style.indent =
          std::string(static_cast<size_t>(std::clamp<int64_t>(ind.int_value(), 0, 1024)), ' ');
    } else {
      type_error("can't multiply sequence by non-int of type '" + type_name(ind) + "'");
    }
    style.item_sep = ",";
  }
  if (a.given(2)) {
    const Value& sep = a.get(2);
    if (!sep.is_sequence() || sep.items().size() != 2 || !sep.items()[0].is_string() ||
        !sep.items()[1].is_string()) {
      value_error("separators must be a pair of strings");
    }
    style.item_sep = sep.items()[0].str();
    style.key_sep = sep.items()[1].str();
  }
  style.sort_keys = a.get_bool(3, false);
  return in.make_string(dumps(in, v, style));
}

struct Entry {
  std::string_view name;
  FilterFn fn;
};

constexpr Entry kFilters[] = {
    {"abs", f_abs},
    {"attr", f_attr},
    {"batch", batch},
    {"capitalize", capitalize},
    {"center", center},
    {"count", length},
    {"d", f_default},
    {"default", f_default},
    {"dictsort", dictsort},
    {"e", escape},
    {"escape", escape},
    {"first", first},
    {"float", f_float},
    {"forceescape", forceescape},
    {"format", format},
    {"groupby", groupby},
    {"indent", indent},
    {"int", f_int},
    {"items", items},
    {"join", join},
    {"last", last},
    {"length", length},
    {"list", list},
    {"lower", lower},
    {"map", map},
    {"max", max},
    {"min", min},
    {"reject", reject},
    {"rejectattr", rejectattr},
    {"replace", replace},
    {"reverse", reverse},
    {"round", f_round},
    {"safe", safe},
    {"select", select},
    {"selectattr", selectattr},
    {"slice", slice},
    {"sort", sort},
    {"string", string},
    {"striptags", striptags},
    {"sum", sum},
    {"title", title},
    {"tojson", f_tojson},
    {"trim", trim},
    {"truncate", truncate},
    {"unique", unique},
    {"upper", upper},
    {"wordcount", wordcount},
};

}  // namespace
}  // namespace minima::jinja::filters

namespace minima::jinja {

FilterFn find_filter(std::string_view name) {
  for (const auto& e : filters::kFilters) {
    if (e.name == name) return e.fn;
  }
  return nullptr;
}

}  // namespace minima::jinja
