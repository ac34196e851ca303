// Python str methods as templates call them: content.strip(), s.split('</think>')[-1],
// name.startswith(('a', 'b')), '{} {}'.format(x, y). On a Markup string the methods markupsafe
// wraps return Markup and escape their string arguments.
#include <algorithm>

#include "runtime/chat/args.hpp"
#include "runtime/chat/error.hpp"
#include "runtime/chat/interp.hpp"
#include "runtime/chat/ops.hpp"
#include "runtime/chat/pystr.hpp"
#include "runtime/chat/value_str.hpp"

namespace minima::jinja {

namespace {

constexpr std::string_view kMethods[] = {
    "capitalize",   "casefold", "center",    "count",      "endswith",   "find",
    "format",       "index",    "isalnum",   "isalpha",    "isascii",    "isdecimal",
    "isdigit",      "islower",  "isnumeric", "isspace",    "istitle",    "isupper",
    "join",         "ljust",    "lower",     "lstrip",     "partition",  "removeprefix",
    "removesuffix", "replace",  "rfind",     "rindex",     "rjust",      "rpartition",
    "rsplit",       "rstrip",   "split",     "splitlines", "startswith", "strip",
    "swapcase",     "title",    "upper",     "zfill",
};

// markupsafe returns Markup from these when called on Markup.
constexpr std::string_view kMarkupPreserving[] = {
    "capitalize", "title",  "lower",  "upper", "replace",  "ljust", "rjust",
    "lstrip",     "rstrip", "center", "strip", "swapcase", "zfill", "casefold",
};

const std::string& str_arg(const Args& a, size_t i, const char* what) {
  if (!a.get(i).is_string()) {
    type_error(a.fn() + "() argument " + what + " must be str, not " + type_name(a.get(i)));
  }
  return a.get(i).str();
}

// The [start:end] code point window of s that find/count/startswith look at, as bytes.
std::string_view window(std::string_view s, const Args& a, size_t first) {
  if (!a.given(first) && !a.given(first + 1)) return s;
  const std::u32string u = pystr::decode(s);
  const auto len = static_cast<int64_t>(u.size());
  auto clamp = [len](int64_t i) { return std::clamp(i < 0 ? i + len : i, int64_t{0}, len); };
  const int64_t b = a.given(first) ? clamp(as_index(a.get(first))) : 0;
  const int64_t e = a.given(first + 1) ? clamp(as_index(a.get(first + 1))) : len;
  if (b >= e) return s.substr(s.size());
  // Map code point offsets back to byte offsets.
  size_t bb = 0;
  size_t eb = 0;
  size_t cp = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (static_cast<int64_t>(cp) == b) bb = i;
      if (static_cast<int64_t>(cp) == e) {
        eb = i;
        break;
      }
      ++cp;
    }
  }
  return s.substr(bb, eb - bb);
}

bool affix_match(const Args& a, std::string_view s, bool prefix) {
  const Value& arg = a.get(0);
  std::vector<std::string_view> options;
  if (arg.is_string()) {
    options.push_back(arg.str());
  } else if (arg.is_tuple()) {
    for (const Value& v : arg.items()) {
      if (!v.is_string()) {
        type_error("tuple for " + a.fn() + " must only contain str, not " + type_name(v));
      }
      options.push_back(v.str());
    }
  } else {
    type_error(a.fn() + " first arg must be str or a tuple of str, not " + type_name(arg));
  }
  const std::string_view w = window(s, a, 1);
  for (std::string_view o : options) {
    if (prefix ? w.starts_with(o) : w.ends_with(o)) return true;
  }
  return false;
}

std::string pad(std::string_view s, int64_t width, const std::string& fill, int where) {
  const auto len = static_cast<int64_t>(pystr::length(s));
  if (width <= len) return std::string(s);
  const int64_t total = width - len;
  // Python's str.center puts the extra character on the left when the padding and the width
  // are both odd.
  int64_t left = 0;
  if (where == 0) {
    left = total / 2 + (total & width & 1);
  } else if (where > 0) {
    left = total;
  }
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += fill;
  out += s;
  for (int64_t i = 0; i < total - left; ++i) out += fill;
  return out;
}

std::string fill_char(const Args& a, size_t i) {
  if (!a.has(i)) return " ";
  const std::string& f = str_arg(a, i, "2");
  if (pystr::length(f) != 1) type_error("The fill character must be exactly one character long");
  return f;
}

template <class Pred>
bool all_chars(std::string_view s, Pred p) {
  const std::u32string u = pystr::decode(s);
  return !u.empty() && std::all_of(u.begin(), u.end(), p);
}

bool is_title(std::string_view s) {
  bool cased_seen = false;
  bool previous_cased = false;
  for (char32_t c : pystr::decode(s)) {
    if (pystr::is_upper(c) || (pystr::is_cased(c) && !pystr::is_lower(c))) {
      if (previous_cased) return false;
      previous_cased = cased_seen = true;
    } else if (pystr::is_lower(c)) {
      if (!previous_cased) return false;
      previous_cased = cased_seen = true;
    } else {
      previous_cased = false;
    }
  }
  return cased_seen;
}

Value list_of(Interp& in, std::vector<std::string> parts, bool markup) {
  List out;
  out.reserve(parts.size());
  in.charge_items(parts.size());
  for (std::string& p : parts) out.push_back(Value::string_like(std::move(p), markup));
  return Value::list(std::move(out));
}

Value str_method(Interp& in, const Value& self, std::string_view name, CallArgs& args) {
  const std::string& s = self.str();
  const bool markup = self.is_markup();
  const std::string fn(name);
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const Args a(fn, args, {"chars"});
    std::u32string chars;
    if (a.given(0)) {
      if (!a.get(0).is_string()) type_error(fn + " arg must be None or str");
      chars = pystr::decode(a.get(0).str());
    }
    return in.make_string(
        pystr::strip(s, name != "rstrip", name != "lstrip", a.given(0) ? &chars : nullptr), markup);
  }
  if (name == "split" || name == "rsplit") {
    const Args a(fn, args, {"sep", "maxsplit"});
    std::string sep;
    if (a.given(0)) {
      if (!a.get(0).is_string()) type_error("must be str or None, not " + type_name(a.get(0)));
      sep = a.get(0).str();
    }
    const int64_t maxsplit = a.get_int(1, -1);
    auto parts = name == "split" ? pystr::split(s, a.given(0) ? &sep : nullptr, maxsplit)
                                 : pystr::rsplit(s, a.given(0) ? &sep : nullptr, maxsplit);
    return list_of(in, std::move(parts), markup);
  }
  if (name == "splitlines") {
    const Args a(fn, args, {"keepends"});
    return list_of(in, pystr::splitlines(s, a.get_bool(0, false)), markup);
  }
  if (name == "startswith" || name == "endswith") {
    const Args a(fn, args, {"prefix", "start", "end"});
    if (!a.has(0)) type_error(fn + "() takes at least 1 argument (0 given)");
    return Value::boolean(affix_match(a, s, name == "startswith"));
  }
  if (name == "replace") {
    const Args a(fn, args, {"old", "new", "count"});
    if (!a.has(1))
      type_error("replace expected at least 2 arguments, got " + std::to_string(args.pos.size()));
    std::string old_s = str_arg(a, 0, "1");
    std::string new_s = str_arg(a, 1, "2");
    if (markup) {
      if (!a.get(0).is_markup()) old_s = pystr::html_escape(old_s);
      if (!a.get(1).is_markup()) new_s = pystr::html_escape(new_s);
    }
    const int64_t count = a.get_int(2, -1);
    const size_t n = pystr::count(s, old_s);
    in.check_size(s.size() + n * new_s.size());
    return in.make_string(pystr::replace(s, old_s, new_s, count), markup);
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    const Args a(fn, args, {"sub", "start", "end"});
    if (!a.has(0)) type_error(fn + "() takes at least 1 argument (0 given)");
    if (!a.get(0).is_string()) type_error("must be str, not " + type_name(a.get(0)));
    const std::string& sub = a.get(0).str();
    const std::string_view w = window(s, a, 1);
    if (name == "count") return Value::integer(pystr::count(w, sub));
    int64_t at = pystr::find(w, sub, name[0] == 'r');
    if (at < 0) {
      if (name == "index" || name == "rindex") value_error("substring not found");
      return Value::integer(-1);
    }
    if (a.given(1) && w.data() != s.data())
      at += static_cast<int64_t>(
          pystr::length(std::string_view(s.data(), static_cast<size_t>(w.data() - s.data()))));
    return Value::integer(at);
  }
  if (name == "join") {
    const Args a(fn, args, {"iterable"});
    if (!a.has(0)) type_error("join() takes exactly one argument (0 given)");
    const List items = in.iterate(a.get(0));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) {
        type_error("sequence item " + std::to_string(i) + ": expected str instance, " +
                   type_name(items[i]) + " found");
      }
      if (i > 0) out += s;
      out += markup && !items[i].is_markup() ? pystr::html_escape(items[i].str()) : items[i].str();
      in.check_size(out.size());
    }
    return in.make_string(std::move(out), markup);
  }
  if (name == "format") {
    CallArgs escaped = args;
    if (markup) {
      for (Value& v : escaped.pos) {
        if (v.is_string() && !v.is_markup()) v = Value::string(pystr::html_escape(v.str()));
      }
      for (auto& kv : escaped.kw) {
        if (kv.second.is_string() && !kv.second.is_markup()) {
          kv.second = Value::string(pystr::html_escape(kv.second.str()));
        }
      }
    }
    return in.make_string(str_format(in, s, escaped), markup);
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    const Args a(fn, args, {"width", "fillchar"});
    if (!a.has(0)) type_error(fn + "() takes at least 1 argument (0 given)");
    const int64_t width = a.get_int(0, 0);
    in.check_size(static_cast<size_t>(std::max<int64_t>(width, 0)) * 4);
    return in.make_string(pad(s, width, fill_char(a, 1),
                              name == "center"  ? 0
                              : name == "rjust" ? 1
                                                : -1),
                          markup);
  }
  if (name == "zfill") {
    const Args a(fn, args, {"width"});
    const int64_t width = a.get_int(0, 0);
    in.check_size(static_cast<size_t>(std::max<int64_t>(width, 0)));
    const auto len = static_cast<int64_t>(pystr::length(s));
    if (width <= len) return self;
    std::string sign;
    std::string_view rest = s;
    if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
      sign = rest.substr(0, 1);
      rest.remove_prefix(1);
    }
    return in.make_string(
        sign + std::string(static_cast<size_t>(width - len), '0') + std::string(rest), markup);
  }
  if (name == "partition" || name == "rpartition") {
    const Args a(fn, args, {"sep"});
    if (!a.has(0)) type_error(fn + "() takes exactly one argument (0 given)");
    if (!a.get(0).is_string()) type_error("must be str, not " + type_name(a.get(0)));
    const std::string& sep = a.get(0).str();
    if (sep.empty()) value_error("empty separator");
    const size_t at = name == "partition" ? s.find(sep) : s.rfind(sep);
    List parts;
    if (at == std::string::npos) {
      parts = name == "partition"
                  ? List{self, Value::string_like("", markup), Value::string_like("", markup)}
                  : List{Value::string_like("", markup), Value::string_like("", markup), self};
    } else {
      parts = {Value::string_like(s.substr(0, at), markup), Value::string_like(sep, markup),
               Value::string_like(s.substr(at + sep.size()), markup)};
    }
    return Value::tuple(std::move(parts));
  }
  if (name == "removeprefix" || name == "removesuffix") {
    const Args a(fn, args, {"affix"});
    if (!a.has(0)) type_error(fn + "() takes exactly one argument (0 given)");
    const std::string& x = str_arg(a, 0, "1");
    if (name == "removeprefix" && s.starts_with(x))
      return in.make_string(s.substr(x.size()), markup);
    if (name == "removesuffix" && !x.empty() && s.ends_with(x)) {
      return in.make_string(s.substr(0, s.size() - x.size()), markup);
    }
    return self;
  }
  if (!args.pos.empty() || !args.kw.empty()) {
    if (!args.kw.empty()) type_error("str." + fn + "() takes no keyword arguments");
    type_error("str." + fn + "() takes no arguments (" + std::to_string(args.pos.size()) +
               " given)");
  }
  if (name == "upper") return in.make_string(pystr::upper(s), markup);
  if (name == "lower" || name == "casefold") return in.make_string(pystr::lower(s), markup);
  if (name == "title") return in.make_string(pystr::title(s), markup);
  if (name == "capitalize") return in.make_string(pystr::capitalize(s), markup);
  if (name == "swapcase") return in.make_string(pystr::swapcase(s), markup);
  if (name == "isalpha") return Value::boolean(all_chars(s, pystr::is_alpha));
  if (name == "isalnum") return Value::boolean(all_chars(s, pystr::is_alnum));
  if (name == "isdecimal") return Value::boolean(all_chars(s, pystr::is_decimal));
  if (name == "isdigit") return Value::boolean(all_chars(s, pystr::is_digit));
  if (name == "isnumeric") return Value::boolean(all_chars(s, pystr::is_numeric));
  if (name == "isspace") return Value::boolean(all_chars(s, pystr::is_space));
  if (name == "isascii") return Value::boolean(pystr::is_ascii(s));
  if (name == "istitle") return Value::boolean(is_title(s));
  if (name == "isupper" || name == "islower") {
    bool cased = false;
    for (char32_t c : pystr::decode(s)) {
      if (name == "isupper" ? pystr::is_lower(c) : pystr::is_upper(c)) return Value::boolean(false);
      cased = cased || pystr::is_cased(c);
    }
    return Value::boolean(cased);
  }
  type_error("'str' object has no method '" + fn + "'");
}

}  // namespace

bool is_str_method(std::string_view name) {
  return std::find(std::begin(kMethods), std::end(kMethods), name) != std::end(kMethods);
}

Value call_str_method(Interp& in, const Value& self, std::string_view name, CallArgs& args) {
  Value v = str_method(in, self, name, args);
  // Only markupsafe's wrapped methods keep the Markup type; the rest return plain str.
  if (self.is_markup() && v.is_markup() &&
      std::find(std::begin(kMarkupPreserving), std::end(kMarkupPreserving), name) ==
          std::end(kMarkupPreserving) &&
      name != "join" && name != "format") {
    return Value::string(v.str());
  }
  return v;
}

}  // namespace minima::jinja
