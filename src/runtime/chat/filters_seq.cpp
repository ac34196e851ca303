// Sequence filters: length, first/last, join, list, map, select/reject(attr), sort, unique, ...
// Like Jinja, map/select/reject(attr)/unique/items/batch/slice return single-use generators
// and reverse an iterator (always true, no len(), exhausted once consumed).
#include <algorithm>

#include "runtime/chat/args.hpp"
#include "runtime/chat/error.hpp"
#include "runtime/chat/filters_impl.hpp"
#include "runtime/chat/ops.hpp"
#include "runtime/chat/pystr.hpp"
#include "runtime/chat/value_str.hpp"

namespace minima::jinja::filters {

namespace {

[[noreturn]] void filter_argument_error(const std::string& m) {
  throw_error("FilterArgumentError", m);
}

CallArgs rest_args(const CallArgs& args, size_t from) {
  CallArgs out;
  for (size_t i = from; i < args.pos.size(); ++i) out.pos.push_back(args.pos[i]);
  out.kw = args.kw;
  return out;
}

// Python's iteration over a value that must be iterable (Undefined iterates as empty).
List iter_items(Interp& in, const Value& v) {
  return in.iterate(v);
}

List reversed_items(Interp& in, const Value& v) {
  if (v.is_undefined()) return {};
  if (!(v.is_sequence() || v.is_string() || v.is_dict())) {
    type_error("'" + type_name(v) + "' object is not reversible");
  }
  List items = in.iterate(v);
  std::reverse(items.begin(), items.end());
  return items;
}

Value select_or_reject(Interp& in, const Value& v, CallArgs& args, bool select, bool lookup_attr) {
  return generator("select_or_reject", [&](List& out) {
    if (!truthy(v)) return;
    size_t off = 0;
    std::optional<AttrGetter> getter;
    if (lookup_attr) {
      if (args.pos.empty()) filter_argument_error("Missing parameter for attribute name");
      getter.emplace(args.pos[0]);
      off = 1;
    }
    const bool has_test = args.pos.size() > off;
    std::string test_name;
    if (has_test) test_name = in.str(args.pos[off]);
    CallArgs test_args = has_test ? rest_args(args, off + 1) : CallArgs{};
    for (const Value& item : iter_items(in, v)) {
      const Value probe = getter ? (*getter)(in, item) : item;
      const bool ok = has_test ? in.call_test(test_name, probe, test_args) : truthy(probe);
      if (ok == select) out.push_back(item);
    }
  });
}

Value sort_key(Interp& in, const Value& item, const std::vector<AttrGetter>& getters) {
  List key;
  for (const AttrGetter& g : getters) key.push_back(g(in, item));
  return Value::list(std::move(key));
}

std::vector<AttrGetter> multi_getters(const Value& attribute, bool lower) {
  std::vector<AttrGetter> getters;
  if (attribute.is_string()) {
    const std::string comma = ",";
    for (const std::string& part : pystr::split(attribute.str(), &comma, -1)) {
      getters.emplace_back(Value::string(part), std::nullopt, lower);
    }
  } else {
    getters.emplace_back(attribute, std::nullopt, lower);
  }
  return getters;
}

Value min_or_max(Interp& in, const Value& v, CallArgs& args, bool want_max, const char* fn) {
  const Args a(fn, args, {"case_sensitive", "attribute"});
  const List items = iter_items(in, v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  const AttrGetter key(a.get_or(1, Value::none()), std::nullopt, !a.get_bool(0, false));
  Value best = items[0];
  Value best_key = key(in, best);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key(in, items[i]);
    // Python's max keeps the first of equal items (it tests new > best), min too (new < best).
    if (compare(in, want_max ? CmpOp::Gt : CmpOp::Lt, k, best_key)) {
      best = items[i];
      best_key = std::move(k);
    }
  }
  return best;
}

}  // namespace

Value length(Interp& in, const Value& v, CallArgs& args) {
  const Args a("length", args, {});
  switch (v.kind()) {
    case Kind::kUndefined:
      return Value::integer(0);
    case Kind::kString:
      return Value::integer(static_cast<int64_t>(pystr::length(v.str())));
    case Kind::kList:
    case Kind::kTuple:
      return Value::integer(static_cast<int64_t>(v.items().size()));
    case Kind::kDict:
      return Value::integer(static_cast<int64_t>(v.dict().size()));
    case Kind::kLoop:
      return Value::integer(static_cast<int64_t>(v.loop().items.items().size()));
    default:
      (void)in;
      type_error("object of type '" + type_name(v) + "' has no len()");
  }
}

Value list(Interp& in, const Value& v, CallArgs& args) {
  const Args a("list", args, {});
  return Value::list(iter_items(in, v));
}

Value first(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_first", args, {});
  if (v.is_iterator()) {
    if (const Value* item = v.iterator().next()) return *item;
  } else if (v.is_sequence()) {
    if (!v.items().empty()) return v.items().front();
  } else {
    const List items = iter_items(in, v);
    if (!items.empty()) return items.front();
  }
  return Value::undefined("No first item, sequence was empty.");
}

Value last(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_last", args, {});
  if (v.is_sequence()) {
    if (!v.items().empty()) return v.items().back();
  } else {
    const List items = reversed_items(in, v);
    if (!items.empty()) return items.front();
  }
  return Value::undefined("No last item, sequence was empty.");
}

Value reverse(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_reverse", args, {});
  if (v.is_string()) {
    std::u32string u = pystr::decode(v.str());
    std::reverse(u.begin(), u.end());
    return in.make_string(pystr::encode(u), v.is_markup());
  }
  if (v.is_iterator()) {
    // reversed() refuses iterators; Jinja falls back to a reversed list.
    List items = in.iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (!(v.is_sequence() || v.is_dict() || v.is_undefined())) {
    filter_argument_error("argument must be iterable");
  }
  const char* type = v.is_list()   ? "list_reverseiterator"
                     : v.is_dict() ? "dict_reversekeyiterator"
                                   : "reversed";
  return generator(
      "", [&](List& out) { out = reversed_items(in, v); }, type);
}

Value items(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_items", args, {});
  return generator("do_items", [&](List& out) {
    if (v.is_undefined()) return;
    if (!v.is_dict()) type_error("Can only get item pairs from a mapping.");
    in.charge_items(v.dict().size());
    for (const auto& [k, x] : v.dict().entries()) out.push_back(Value::tuple({k, x}));
  });
}

Value join(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_join", args, {"d", "attribute"});
  const std::string sep = a.has(0) ? in.str(a.get(0)) : "";
  std::optional<AttrGetter> getter;
  if (a.given(1)) getter.emplace(a.get(1));
  std::string out;
  bool first_item = true;
  for (const Value& item : iter_items(in, v)) {
    if (!first_item) out += sep;
    first_item = false;
    out += in.str(getter ? (*getter)(in, item) : item);
    in.check_size(out.size());
  }
  return in.make_string(std::move(out));
}

Value map(Interp& in, const Value& v, CallArgs& args) {
  return generator("sync_do_map", [&](List& out) {
    if (!truthy(v)) return;
    const auto attr = std::find_if(args.kw.begin(), args.kw.end(),
                                   [](const auto& kv) { return kv.first == "attribute"; });
    if (args.pos.empty() && attr != args.kw.end()) {
      std::optional<Value> fallback;
      for (const auto& [k, x] : args.kw) {
        if (k == "default") {
          if (!x.is_none()) fallback = x;
        } else if (k != "attribute") {
          filter_argument_error("Unexpected keyword argument " + pystr::repr(k));
        }
      }
      const AttrGetter getter(attr->second, fallback);
      for (const Value& item : iter_items(in, v)) out.push_back(getter(in, item));
      return;
    }
    if (args.pos.empty()) filter_argument_error("map requires a filter argument");
    const std::string name = in.str(args.pos[0]);
    const CallArgs rest = rest_args(args, 1);
    for (const Value& item : iter_items(in, v)) {
      CallArgs call = rest;
      out.push_back(in.call_filter(name, item, call));
    }
  });
}

Value select(Interp& in, const Value& v, CallArgs& args) {
  return select_or_reject(in, v, args, true, false);
}
Value reject(Interp& in, const Value& v, CallArgs& args) {
  return select_or_reject(in, v, args, false, false);
}
Value selectattr(Interp& in, const Value& v, CallArgs& args) {
  return select_or_reject(in, v, args, true, true);
}
Value rejectattr(Interp& in, const Value& v, CallArgs& args) {
  return select_or_reject(in, v, args, false, true);
}

Value sort(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_sort", args, {"reverse", "case_sensitive", "attribute"});
  const bool rev = a.get_bool(0, false);
  const std::vector<AttrGetter> getters =
      multi_getters(a.get_or(2, Value::none()), !a.get_bool(1, false));
  List items = iter_items(in, v);
  List keys;
  for (const Value& item : items) keys.push_back(sort_key(in, item, getters));
  // Sort indices by key; reverse=True keeps equal items in order, like Python.
  List order;
  for (size_t i = 0; i < items.size(); ++i)
    order.push_back(Value::integer(static_cast<int64_t>(i)));
  in.charge_items(items.size() * 2);
  stable_sort(order, [&](const Value& x, const Value& y) {
    const Value& kx = keys[static_cast<size_t>(x.int_value())];
    const Value& ky = keys[static_cast<size_t>(y.int_value())];
    return rev ? py_less(in, ky, kx) : py_less(in, kx, ky);
  });
  List out;
  for (const Value& i : order) out.push_back(items[static_cast<size_t>(i.int_value())]);
  return Value::list(std::move(out));
}

Value dictsort(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_dictsort", args, {"case_sensitive", "by", "reverse"});
  const bool case_sensitive = a.get_bool(0, false);
  const std::string by = a.has(1) ? in.str(a.get(1)) : "key";
  if (by != "key" && by != "value")
    filter_argument_error("You can only sort by either \"key\" or \"value\"");
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_dict())
    throw_error("AttributeError", "'" + type_name(v) + "' object has no attribute 'items'");
  const size_t pos = by == "key" ? 0 : 1;
  const bool rev = a.get_bool(2, false);
  List pairs;
  for (const auto& [k, x] : v.dict().entries()) pairs.push_back(Value::tuple({k, x}));
  stable_sort(pairs, [&](const Value& x, const Value& y) {
    Value kx = x.items()[pos];
    Value ky = y.items()[pos];
    if (!case_sensitive) {
      kx = lower_if_string(kx);
      ky = lower_if_string(ky);
    }
    return rev ? py_less(in, ky, kx) : py_less(in, kx, ky);
  });
  return Value::list(std::move(pairs));
}

Value unique(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_unique", args, {"case_sensitive", "attribute"});
  const AttrGetter key(a.get_or(1, Value::none()), std::nullopt, !a.get_bool(0, false));
  return generator("sync_do_unique", [&](List& out) {
    List seen;
    for (const Value& item : iter_items(in, v)) {
      const Value k = key(in, item);
      if (!hashable(k)) type_error("unhashable type: '" + type_name(k) + "'");
      bool dup = false;
      for (const Value& s : seen) {
        if (py_equal(s, k, in.steps())) {
          dup = true;
          break;
        }
      }
      if (!dup) {
        seen.push_back(k);
        out.push_back(item);
      }
    }
  });
}

Value min(Interp& in, const Value& v, CallArgs& args) {
  return min_or_max(in, v, args, false, "do_min");
}
Value max(Interp& in, const Value& v, CallArgs& args) {
  return min_or_max(in, v, args, true, "do_max");
}

Value sum(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_sum", args, {"attribute", "start"});
  std::optional<AttrGetter> getter;
  if (a.given(0)) getter.emplace(a.get(0));
  Value total = a.get_or(1, Value::integer(0));
  if (total.is_string()) type_error("sum() can't sum strings [use ''.join(seq) instead]");
  for (const Value& item : iter_items(in, v)) {
    total = binary_op(in, BinOp::Add, total, getter ? (*getter)(in, item) : item);
  }
  return total;
}

Value batch(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_batch", args, {"linecount", "fill_with"});
  if (!a.has(0)) type_error("do_batch() missing 1 required positional argument: 'linecount'");
  // linecount <= 0 behaves as in Jinja: an empty batch whenever the count is reached.
  const int64_t n = a.get_int(0, 1);
  return generator("do_batch", [&](List& out) {
    List tmp;
    for (const Value& item : iter_items(in, v)) {
      if (static_cast<int64_t>(tmp.size()) == n) {
        out.push_back(Value::list(std::move(tmp)));
        tmp.clear();
      }
      tmp.push_back(item);
    }
    if (!tmp.empty()) {
      if (a.given(1)) {
        while (static_cast<int64_t>(tmp.size()) < n) tmp.push_back(a.get(1));
      }
      out.push_back(Value::list(std::move(tmp)));
    }
  });
}

Value slice(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_slice", args, {"slices", "fill_with"});
  if (!a.has(0)) type_error("do_slice() missing 1 required positional argument: 'slices'");
  const int64_t slices = a.get_int(0, 1);
  if (slices <= 0) throw_error("ZeroDivisionError", "integer division or modulo by zero");
  if (slices > 100000) limit_error("too many slices");
  return generator("sync_do_slice", [&](List& out) {
    const List seq = iter_items(in, v);
    const auto len = static_cast<int64_t>(seq.size());
    const int64_t per = len / slices;
    const int64_t extra = len % slices;
    int64_t offset = 0;
    for (int64_t k = 0; k < slices; ++k) {
      const int64_t start = offset + k * per;
      if (k < extra) ++offset;
      const int64_t end = offset + (k + 1) * per;
      List tmp(seq.begin() + start, seq.begin() + end);
      if (a.given(1) && k >= extra) tmp.push_back(a.get(1));
      out.push_back(Value::list(std::move(tmp)));
    }
  });
}

Value groupby(Interp& in, const Value& v, CallArgs& args) {
  const Args a("do_groupby", args, {"attribute", "default", "case_sensitive"});
  if (!a.has(0)) type_error("do_groupby() missing 1 required positional argument: 'attribute'");
  std::optional<Value> fallback;
  if (a.given(1)) fallback = a.get(1);
  const bool case_sensitive = a.get_bool(2, false);
  const AttrGetter key(a.get(0), fallback, !case_sensitive);
  const AttrGetter real_key(a.get(0), fallback, false);
  List items = iter_items(in, v);
  List keys;
  for (const Value& item : items) keys.push_back(key(in, item));
  List order;
  for (size_t i = 0; i < items.size(); ++i)
    order.push_back(Value::integer(static_cast<int64_t>(i)));
  stable_sort(order, [&](const Value& x, const Value& y) {
    return py_less(in, keys[static_cast<size_t>(x.int_value())],
                   keys[static_cast<size_t>(y.int_value())]);
  });
  List out;
  size_t i = 0;
  while (i < order.size()) {
    const auto first_index = static_cast<size_t>(order[i].int_value());
    List group;
    size_t j = i;
    while (j < order.size() && py_equal(keys[static_cast<size_t>(order[j].int_value())],
                                        keys[first_index], in.steps())) {
      group.push_back(items[static_cast<size_t>(order[j].int_value())]);
      ++j;
    }
    Value grouper = case_sensitive ? keys[first_index] : real_key(in, group.front());
    out.push_back(Value::group_tuple(std::move(grouper), Value::list(std::move(group))));
    i = j;
  }
  return Value::list(std::move(out));
}

}  // namespace minima::jinja::filters
