// Attribute access, subscripts, slices and iteration with the semantics of Jinja's sandboxed
// environment: `a.b` tries the attribute and then the item, `a[b]` the item and then the
// attribute, and a miss yields an Undefined that remembers why (printed later as the message of
// the UndefinedError if the template uses it).
#include <algorithm>

#include "runtime/chat/error.hpp"
#include "runtime/chat/interp.hpp"
#include "runtime/chat/pystr.hpp"
#include "runtime/chat/value_str.hpp"
#include "runtime/tokenizer/utf8.hpp"

namespace minima::jinja {

namespace {

bool is_unsafe_method(const Value& obj, std::string_view name) {
  static constexpr std::string_view kList[] = {"append", "clear", "pop",    "reverse",
                                               "insert", "sort",  "extend", "remove"};
  static constexpr std::string_view kDict[] = {"clear", "pop", "popitem", "setdefault", "update"};
  if (obj.is_list()) return std::find(std::begin(kList), std::end(kList), name) != std::end(kList);
  if (obj.is_dict()) return std::find(std::begin(kDict), std::end(kDict), name) != std::end(kDict);
  return false;
}

Value no_attribute(const Value& obj, std::string_view name) {
  return Value::undefined(pystr::repr(object_type_repr(obj)) + " has no attribute " +
                          pystr::repr(name));
}

Value no_element(const Value& obj, const Value& key) {
  return Value::undefined(object_type_repr(obj) + " has no element " + repr(key));
}

Value bound(const Value& obj, std::string_view name) {
  return Value::callable(std::make_shared<BoundMethod>(obj, std::string(name)), obj.depth() + 1);
}

Value loop_attribute(const Value& obj, const std::string& name) {
  const LoopState& st = obj.loop();
  const List& items = st.items.items();
  const auto len = static_cast<int64_t>(items.size());
  const auto i = static_cast<int64_t>(st.index0);
  if (name == "index") return Value::integer(i + 1);
  if (name == "index0") return Value::integer(i);
  if (name == "revindex") return Value::integer(len - i);
  if (name == "revindex0") return Value::integer(len - i - 1);
  if (name == "first") return Value::boolean(i == 0);
  if (name == "last") return Value::boolean(i == len - 1);
  if (name == "length") return Value::integer(len);
  if (name == "depth") return Value::integer(st.depth0 + 1);
  if (name == "depth0") return Value::integer(st.depth0);
  if (name == "previtem") {
    return i > 0 ? items[static_cast<size_t>(i - 1)]
                 : Value::undefined("there is no previous item");
  }
  if (name == "nextitem") {
    return i + 1 < len ? items[static_cast<size_t>(i + 1)]
                       : Value::undefined("there is no next item");
  }
  if (name == "cycle" || name == "changed") return bound(obj, name);
  return no_attribute(obj, name);
}

// The code point at index i (negative from the end) of s, or nullopt when out of range.
std::optional<std::string> char_at(std::string_view s, int64_t i) {
  if (pystr::is_ascii(s)) {
    const auto n = static_cast<int64_t>(s.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) return std::nullopt;
    return std::string(1, s[static_cast<size_t>(i)]);
  }
  const std::u32string u = pystr::decode(s);
  const auto n = static_cast<int64_t>(u.size());
  if (i < 0) i += n;
  if (i < 0 || i >= n) return std::nullopt;
  return pystr::encode(std::u32string_view(u).substr(static_cast<size_t>(i), 1));
}

}  // namespace

Value Interp::getattr(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Kind::kUndefined:
      fail_undefined(obj);
    case Kind::kDict:
      if (has_method(obj, name)) return bound(obj, name);
      if (const Value* v = obj.dict().find(std::string_view(name))) return *v;
      break;
    case Kind::kTuple:
      if (obj.is_group_tuple() && (name == "grouper" || name == "list")) {
        return obj.items()[name == "grouper" ? 0 : 1];
      }
      if (has_method(obj, name)) return bound(obj, name);
      break;
    case Kind::kString:
    case Kind::kList:
      if (has_method(obj, name)) return bound(obj, name);
      break;
    case Kind::kNamespace:
      if (const Value* v = obj.ns().attrs.find(std::string_view(name))) return *v;
      break;
    case Kind::kLoop:
      return loop_attribute(obj, name);
    default:
      break;
  }
  if (is_unsafe_method(obj, name)) {
    return Value::undefined("access to attribute " + pystr::repr(name) + " of " +
                                pystr::repr(type_name(obj)) + " object is unsafe.",
                            true);
  }
  return no_attribute(obj, name);
}

Value Interp::getitem(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Kind::kUndefined:
      fail_undefined(obj);
    case Kind::kDict:
      if (const Value* v = obj.dict().find(key)) return *v;
      break;
    case Kind::kList:
    case Kind::kTuple:
      if (key.is_integral()) {
        const List& items = obj.items();
        int64_t i = key.int_value();
        if (i < 0) i += static_cast<int64_t>(items.size());
        if (i >= 0 && i < static_cast<int64_t>(items.size())) return items[static_cast<size_t>(i)];
        return no_element(obj, key);
      }
      break;
    case Kind::kString:
      if (key.is_integral()) {
        if (auto c = char_at(obj.str(), key.int_value())) {
          return Value::string_like(std::move(*c), obj.is_markup());
        }
        return no_element(obj, key);
      }
      break;
    default:
      break;
  }
  if (key.is_string()) return getattr(obj, key.str());
  return no_element(obj, key);
}

Value Interp::slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  // Jinja compiles a[b:c] to a plain Python subscript, so errors are Python's own (not an
  // Undefined as for a[b]).
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_dict()) type_error("unhashable type: 'slice'");
  if (!(obj.is_sequence() || obj.is_string())) {
    type_error("'" + type_name(obj) + "' object is not subscriptable");
  }
  for (const Value* b : {&start, &stop, &step}) {
    if (!(b->is_none() || b->is_integral())) {
      type_error("slice indices must be integers or None or have an __index__ method");
    }
  }
  auto bound_of = [](const Value& v) -> std::optional<int64_t> {
    if (v.is_none()) return std::nullopt;
    return v.int_value();
  };
  const int64_t st = step.is_none() ? 1 : step.int_value();
  if (st == 0) value_error("slice step cannot be zero");
  if (obj.is_string()) {
    const std::string& s = obj.str();
    std::string out;
    if (pystr::is_ascii(s)) {
      for (size_t i : pystr::slice_indices(s.size(), bound_of(start), bound_of(stop), st)) {
        out.push_back(s[i]);
      }
    } else {
      const std::u32string u = pystr::decode(s);
      for (size_t i : pystr::slice_indices(u.size(), bound_of(start), bound_of(stop), st)) {
        utf8::append(out, u[i]);
      }
    }
    return make_string(std::move(out), obj.is_markup());
  }
  const List& items = obj.items();
  const std::vector<size_t> picked =
      pystr::slice_indices(items.size(), bound_of(start), bound_of(stop), st);
  charge_items(picked.size());
  List out;
  out.reserve(picked.size());
  for (size_t i : picked) out.push_back(items[i]);
  return obj.is_list() ? Value::list(std::move(out)) : Value::tuple(std::move(out));
}

List Interp::iterate(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return {};
    case Kind::kList:
    case Kind::kTuple:
      charge_items(v.items().size());
      return v.items();
    case Kind::kDict: {
      charge_items(v.dict().size());
      List keys;
      keys.reserve(v.dict().size());
      for (const auto& [k, val] : v.dict().entries()) keys.push_back(k);
      return keys;
    }
    case Kind::kString: {
      charge_items(v.str().size());
      List chars;
      const std::string& s = v.str();
      size_t i = 0;
      while (i < s.size()) {
        const size_t len = utf8::scan(s, i).len;
        chars.push_back(Value::string(s.substr(i, len)));
        i += len;
      }
      return chars;
    }
    case Kind::kIterator: {
      List rest = v.iterator().drain();
      charge_items(rest.size());
      return rest;
    }
    default:
      type_error("'" + type_name(v) + "' object is not iterable");
  }
}

Value BoundMethod::call(Interp& in, CallArgs& args) const {
  return call_method(in, self_, name_, args);
}

std::string BoundMethod::repr() const {
  return "<built-in method " + name_ + " of " + jinja::type_name(self_) + " object>";
}

}  // namespace minima::jinja
