// Methods of dict, list/tuple and the loop object, and the dispatch for all method calls.
#include <algorithm>

#include "runtime/chat/args.hpp"
#include "runtime/chat/error.hpp"
#include "runtime/chat/interp.hpp"
#include "runtime/chat/pystr.hpp"
#include "runtime/chat/value_str.hpp"

namespace minima::jinja {

namespace {

constexpr std::string_view kDictMethods[] = {"items", "keys", "values", "get", "copy"};
constexpr std::string_view kSeqMethods[] = {"index", "count"};

bool in(std::string_view name, const auto& list) {
  return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

Value dict_method(Interp& in, const Value& self, std::string_view name, CallArgs& args) {
  const Dict& d = self.dict();
  if (name == "get") {
    const Args a("get", args, {"key", "default"});
    if (!a.has(0)) type_error("get expected at least 1 argument, got 0");
    const Value* v = d.find(a.get(0));
    if (v == nullptr && !hashable(a.get(0)))
      type_error("unhashable type: '" + type_name(a.get(0)) + "'");
    return v != nullptr ? *v : a.get_or(1, Value::none());
  }
  const Args a(std::string(name), args, {});
  if (name == "copy") return self;
  List out;
  out.reserve(d.size());
  in.charge_items(d.size());
  for (const auto& [k, v] : d.entries()) {
    if (name == "items") {
      out.push_back(Value::tuple({k, v}));
    } else {
      out.push_back(name == "keys" ? k : v);
    }
  }
  return Value::list(std::move(out));
}

Value seq_method(Interp& in, const Value& self, std::string_view name, CallArgs& args) {
  const List& items = self.items();
  const Args a(std::string(name), args, {"value", "start", "stop"});
  if (!a.has(0)) type_error(std::string(name) + "() takes at least 1 argument (0 given)");
  if (name == "count") {
    int64_t n = 0;
    for (const Value& v : items) n += py_equal(v, a.get(0), in.steps()) ? 1 : 0;
    return Value::integer(n);
  }
  const auto len = static_cast<int64_t>(items.size());
  auto clamp = [len](int64_t i) { return std::clamp(i < 0 ? i + len : i, int64_t{0}, len); };
  const int64_t b = clamp(a.get_int(1, 0));
  const int64_t e = clamp(a.get_int(2, len));
  for (int64_t i = b; i < e; ++i) {
    if (py_equal(items[static_cast<size_t>(i)], a.get(0), in.steps())) return Value::integer(i);
  }
  if (self.is_tuple()) value_error("tuple.index(x): x not in tuple");
  value_error(repr(a.get(0)) + " is not in list");
}

Value loop_method(const Value& self, std::string_view name, CallArgs& args) {
  LoopState& st = self.loop();
  if (!args.kw.empty()) type_error(std::string(name) + "() takes no keyword arguments");
  if (name == "cycle") {
    if (args.pos.empty()) type_error("no items for cycling given");
    return args.pos[st.index0 % args.pos.size()];
  }
  Value now = Value::list(args.pos);
  if (st.changed_last && py_equal(*st.changed_last, now)) return Value::boolean(false);
  st.changed_last = std::move(now);
  return Value::boolean(true);
}

}  // namespace

bool has_method(const Value& self, std::string_view name) {
  switch (self.kind()) {
    case Kind::kString:
      return is_str_method(name);
    case Kind::kDict:
      return in(name, kDictMethods);
    case Kind::kList:
      return in(name, kSeqMethods) || name == "copy";
    case Kind::kTuple:
      return in(name, kSeqMethods);
    case Kind::kLoop:
      return name == "cycle" || name == "changed";
    default:
      return false;
  }
}

Value call_method(Interp& in, const Value& self, std::string_view name, CallArgs& args) {
  switch (self.kind()) {
    case Kind::kString:
      return call_str_method(in, self, name, args);
    case Kind::kDict:
      return dict_method(in, self, name, args);
    case Kind::kList:
      if (name == "copy") return self;
      return seq_method(in, self, name, args);
    case Kind::kTuple:
      return seq_method(in, self, name, args);
    case Kind::kLoop:
      return loop_method(self, name, args);
    default:
      type_error("'" + type_name(self) + "' object has no method '" + std::string(name) + "'");
  }
}

}  // namespace minima::jinja
