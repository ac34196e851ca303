// The global functions a chat template can call: Jinja's range/dict/namespace/joiner and the two
// transformers adds, raise_exception(msg) and strftime_now(fmt).
#include "runtime/chat/args.hpp"
#include "runtime/chat/error.hpp"
#include "runtime/chat/interp.hpp"
#include "runtime/chat/strftime.hpp"
#include "runtime/chat/value_str.hpp"

namespace minima::jinja {

namespace {

using BuiltinFn = Value (*)(Interp& in, CallArgs& args);

class Builtin : public Callable {
 public:
  Builtin(const char* repr, BuiltinFn fn) : repr_(repr), fn_(fn) {}
  Value call(Interp& in, CallArgs& args) const override { return fn_(in, args); }
  std::string repr() const override { return repr_; }
  const char* type_name() const override { return "builtin_function_or_method"; }

 private:
  const char* repr_;
  BuiltinFn fn_;
};

// Jinja's joiner: returns "" the first time it is called and the separator afterwards.
class Joiner : public Callable {
 public:
  explicit Joiner(std::string sep) : sep_(std::move(sep)) {}
  Value call(Interp&, CallArgs& args) const override {
    const Args a("joiner", args, {});
    if (!used_) {
      used_ = true;
      return Value::string("");
    }
    return Value::string(sep_);
  }
  std::string repr() const override { return "<jinja2.utils.Joiner object>"; }
  const char* type_name() const override { return "Joiner"; }

 private:
  std::string sep_;
  mutable bool used_ = false;  // the joiner's own state, as in Jinja
};

constexpr int64_t kMaxRange = 100000;  // the sandbox's MAX_RANGE

Value g_range(Interp& in, CallArgs& args) {
  if (!args.kw.empty()) type_error("range() takes no keyword arguments");
  const size_t n = args.pos.size();
  if (n == 0) type_error("range expected at least 1 argument, got 0");
  if (n > 3) type_error("range expected at most 3 arguments, got " + std::to_string(n));
  int64_t start = 0;
  int64_t stop = 0;
  int64_t step = 1;
  for (const Value& v : args.pos) {
    if (v.is_undefined()) fail_undefined(v);
  }
  if (n == 1) {
    stop = as_index(args.pos[0]);
  } else {
    start = as_index(args.pos[0]);
    stop = as_index(args.pos[1]);
    if (n == 3) step = as_index(args.pos[2]);
  }
  if (step == 0) value_error("range() arg 3 must not be zero");
  // len(range) in unsigned arithmetic: stop - start may not fit in int64.
  uint64_t count = 0;
  if (step > 0 && stop > start) {
    count = (static_cast<uint64_t>(stop) - static_cast<uint64_t>(start) - 1) /
                static_cast<uint64_t>(step) +
            1;
  } else if (step < 0 && start > stop) {
    count = (static_cast<uint64_t>(start) - static_cast<uint64_t>(stop) - 1) /
                (0 - static_cast<uint64_t>(step)) +
            1;
  }
  if (count > static_cast<uint64_t>(kMaxRange)) {
    throw_error("OverflowError",
                "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  in.charge_items(static_cast<size_t>(count));
  List items;
  items.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i)
    items.push_back(Value::integer(start + i * step));
  return Value::list(std::move(items));
}

// dict(mapping_or_pairs, **kwargs), the constructor namespace() shares.
Dict build_dict(Interp& in, CallArgs& args, const char* fn) {
  if (args.pos.size() > 1) {
    type_error(std::string(fn) + " expected at most 1 argument, got " +
               std::to_string(args.pos.size()));
  }
  Dict d;
  if (!args.pos.empty()) {
    const Value& src = args.pos[0];
    if (src.is_dict()) {
      for (const auto& [k, v] : src.dict().entries()) d.set(k, v);
    } else if (src.is_namespace()) {
      type_error("'Namespace' object is not iterable");
    } else {
      size_t i = 0;
      for (const Value& pair : in.iterate(src)) {
        if (!pair.is_sequence() && !pair.is_string()) {
          type_error("cannot convert dictionary update sequence element #" + std::to_string(i) +
                     " to a sequence");
        }
        const List kv = in.iterate(pair);
        if (kv.size() != 2) {
          value_error("dictionary update sequence element #" + std::to_string(i) + " has length " +
                      std::to_string(kv.size()) + "; 2 is required");
        }
        d.set(kv[0], kv[1]);
        ++i;
      }
    }
  }
  for (const auto& [k, v] : args.kw) d.set(Value::string(k), v);
  return d;
}

Value g_dict(Interp& in, CallArgs& args) {
  return Value::dict(build_dict(in, args, "dict"));
}

Value g_namespace(Interp& in, CallArgs& args) {
  Dict d = build_dict(in, args, "Namespace");
  Value ns = in.new_namespace();
  ns.ns().attrs = std::move(d);
  return ns;
}

Value g_joiner(Interp& in, CallArgs& args) {
  const Args a("joiner", args, {"sep"});
  return Value::callable(std::make_shared<Joiner>(a.has(0) ? in.str(a.get(0)) : ", "));
}

Value g_raise_exception(Interp& in, CallArgs& args) {
  const Args a("raise_exception", args, {"message"});
  if (!a.has(0)) type_error("raise_exception() missing 1 required positional argument: 'message'");
  throw_error("TemplateError", in.str(a.get(0)));
}

Value g_strftime_now(Interp& in, CallArgs& args) {
  const Args a("strftime_now", args, {"format"});
  if (!a.has(0)) type_error("strftime_now() missing 1 required positional argument: 'format'");
  if (!a.get(0).is_string()) {
    type_error("strftime() argument 1 must be str, not " + type_name(a.get(0)));
  }
  return in.make_string(py_strftime(a.get(0).str(), in.now()));
}

struct Entry {
  std::string_view name;
  const char* repr;
  BuiltinFn fn;
};

constexpr Entry kGlobals[] = {
    {"range", "<class 'range'>", g_range},
    {"dict", "<class 'dict'>", g_dict},
    {"namespace", "<class 'jinja2.utils.Namespace'>", g_namespace},
    {"joiner", "<class 'jinja2.utils.Joiner'>", g_joiner},
    {"raise_exception", "<function raise_exception>", g_raise_exception},
    {"strftime_now", "<function strftime_now>", g_strftime_now},
};

}  // namespace

Value lookup_global(const std::string& name) {
  for (const Entry& e : kGlobals) {
    if (e.name == name) return Value::callable(std::make_shared<Builtin>(e.repr, e.fn));
  }
  return Value();
}

}  // namespace minima::jinja
