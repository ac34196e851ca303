// String filters: trim, indent, replace, title, escape/safe, format, truncate, ...
#include "runtime/chat/args.hpp"
#include "runtime/chat/error.hpp"
#include "runtime/chat/filters_impl.hpp"
#include "runtime/chat/ops.hpp"
#include "runtime/chat/pystr.hpp"
#include "runtime/chat/value_str.hpp"

namespace minima::jinja::filters {

namespace {

Value str_call(Interp& in, const Value& v, std::string_view method, CallArgs args = {}) {
  return call_str_method(in, soft_str(in, v), method, args);
}

}  // namespace

Value capitalize(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_capitalize", args, {});
  return str_call(in, v, "capitalize");
}

Value lower(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_lower", args, {});
  return str_call(in, v, "lower");
}

Value upper(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_upper", args, {});
  return str_call(in, v, "upper");
}

Value center(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_center", args, {"width"});
  CallArgs call;
  call.pos.push_back(a.get_or(0, Value::integer(80)));
  return str_call(in, v, "center", call);
}

Value trim(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_trim", args, {"chars"});
  CallArgs call;
  if (a.has(0)) call.pos.push_back(a.get(0));
  return str_call(in, v, "strip", call);
}

Value escape(Interp& in, const Value& v, CallArgs& args) {
  const Args a("escape", args, {});
  if (v.is_markup()) return v;
  return in.make_string(pystr::html_escape(in.str(v)), true);
}

Value forceescape(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_forceescape", args, {});
  return in.make_string(pystr::html_escape(in.str(v)), true);
}

Value safe(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_mark_safe", args, {});
  return in.make_string(in.str(v), true);
}

Value string(Interp& in, const Value& v, CallArgs& args) {
  const Args a("soft_str", args, {});
  return soft_str(in, v);
}

Value format(Interp& in, const Value& v, CallArgs& args) {
  if (!args.pos.empty() && !args.kw.empty()) {
    throw_error("FilterArgumentError",
                "can't handle positional and keyword arguments at the same time");
  }
  Value params;
  if (!args.kw.empty()) {
    Dict d;
    for (const auto& [k, x] : args.kw) d.set(Value::string(k), x);
    params = Value::dict(std::move(d));
  } else {
    params = Value::tuple(args.pos);
  }
  return percent_format(in, soft_str(in, v), params);
}

Value replace(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_replace", args, {"old", "new", "count"});
  if (!a.has(0) || !a.has(1))
    type_error("do_replace() missing required arguments: 'old' and 'new'");
  const std::string s = in.str(v);
  const std::string old_s = in.str(a.get(0));
  const std::string new_s = in.str(a.get(1));
  const int64_t count = a.given(2) ? a.get_int(2, -1) : -1;
  in.check_size(s.size() + pystr::count(s, old_s) * new_s.size());
  return in.make_string(pystr::replace(s, old_s, new_s, count));
}

Value indent(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_indent", args, {"width", "first", "blank"});
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_string()) {
    type_error("unsupported operand type(s) for +=: '" + type_name(v) + "' and 'str'");
  }
  std::string indention;
  if (a.has(0) && a.get(0).is_string()) {
    indention = a.get(0).str();
  } else {
    const int64_t width = a.get_int(0, 4);
    in.check_size(static_cast<size_t>(std::max<int64_t>(width, 0)));
    indention.assign(static_cast<size_t>(std::max<int64_t>(width, 0)), ' ');
  }
  const bool first = a.get_bool(1, false);
  const bool blank = a.get_bool(2, false);
  const std::vector<std::string> lines = pystr::splitlines(v.str() + "\n", false);
  in.check_size(v.str().size() + lines.size() * (indention.size() + 1));
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) rv += "\n" + indention;
      rv += lines[i];
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += indention;
      rv += lines[i];
    }
  }
  if (first) rv = indention + rv;
  return in.make_string(std::move(rv), v.is_markup());
}

Value title(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_title", args, {});
  const Value s = soft_str(in, v);
  // Jinja capitalizes after runs of whitespace, '-', '(', '{', '[' and '<' (not after
  // apostrophes, unlike str.title()).
  auto separator = [](char32_t c) {
    return pystr::is_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
  };
  std::string out;
  bool at_start = true;
  for (char32_t c : pystr::decode(s.str())) {
    if (separator(c)) {
      pystr::append(out, c);
      at_start = true;
      continue;
    }
    std::string one;
    pystr::append(one, c);
    out += at_start ? pystr::upper(one) : pystr::lower(one);
    at_start = false;
  }
  return in.make_string(std::move(out), s.is_markup());
}

Value truncate(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_truncate", args, {"length", "killwords", "end", "leeway"});
  const int64_t length = a.get_int(0, 255);
  const bool killwords = a.get_bool(1, false);
  const std::string end = a.has(2) ? in.str(a.get(2)) : "...";
  const int64_t leeway = a.given(3) ? a.get_int(3, 5) : 5;
  const auto end_len = static_cast<int64_t>(pystr::length(end));
  if (length < end_len) {
    throw_error("AssertionError", "expected length >= " + std::to_string(end_len) + ", got " +
                                      std::to_string(length));
  }
  if (leeway < 0)
    throw_error("AssertionError", "expected leeway >= 0, got " + std::to_string(leeway));
  // Jinja measures the value itself (len(s)), not its string form.
  int64_t len = 0;
  if (v.is_string()) {
    len = static_cast<int64_t>(pystr::length(v.str()));
  } else if (v.is_sequence()) {
    len = static_cast<int64_t>(v.items().size());
  } else if (v.is_dict()) {
    len = static_cast<int64_t>(v.dict().size());
  } else if (!v.is_undefined()) {
    type_error("object of type '" + type_name(v) + "' has no len()");
  }
  if (len <= length + leeway) return v;
  if (!v.is_string()) {
    if (v.is_dict()) type_error("unhashable type: 'slice'");
    if (killwords)
      type_error("can only concatenate " + type_name(v) + " (not \"str\") to " + type_name(v));
    throw_error("AttributeError", "'" + type_name(v) + "' object has no attribute 'rsplit'");
  }
  const std::u32string u = pystr::decode(v.str());
  const std::string head =
      pystr::encode(std::u32string_view(u).substr(0, static_cast<size_t>(length - end_len)));
  if (killwords) return in.make_string(head + end);
  const std::string space = " ";
  return in.make_string(pystr::rsplit(head, &space, 1)[0] + end);
}

Value wordcount(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_wordcount", args, {});
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : pystr::decode(in.str(v))) {
    const bool w = c == '_' || pystr::is_alnum(c);
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::integer(n);
}

Value striptags(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_striptags", args, {});
  const std::string s = in.str(v);
  std::string text;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 4, "<!--") == 0) {
      const size_t e = s.find("-->", i + 4);
      if (e != std::string::npos) {
        i = e + 3;
        continue;
      }
    }
    if (s[i] == '<') {
      const size_t e = s.find('>', i + 1);
      if (e != std::string::npos) {
        i = e + 1;
        continue;
      }
    }
    text.push_back(s[i++]);
  }
  std::string joined;
  for (const std::string& w : pystr::split(text, nullptr, -1)) {
    if (!joined.empty()) joined.push_back(' ');
    joined += w;
  }
  // Unescape the entities markupsafe produces.
  static constexpr std::pair<std::string_view, std::string_view> kEntities[] = {
      {"&amp;", "&"}, {"&lt;", "<"},   {"&gt;", ">"},
      {"&#39;", "'"}, {"&#34;", "\""}, {"&quot;", "\""}};
  std::string out;
  for (size_t i = 0; i < joined.size();) {
    bool matched = false;
    for (const auto& [ent, ch] : kEntities) {
      if (joined.compare(i, ent.size(), ent) == 0) {
        out += ch;
        i += ent.size();
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back(joined[i++]);
  }
  return in.make_string(std::move(out));
}

}  // namespace minima::jinja::filters
