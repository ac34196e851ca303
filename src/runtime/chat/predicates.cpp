// Jinja's tests (`x is defined`, `x is string`, `x is equalto 3`, ...), with Python's notion of
// the types: bool counts as a number, and Undefined is iterable and a sequence.
#include <algorithm>

#include "runtime/chat/args.hpp"
#include "runtime/chat/error.hpp"
#include "runtime/chat/interp.hpp"
#include "runtime/chat/ops.hpp"
#include "runtime/chat/parser.hpp"
#include "runtime/chat/pystr.hpp"

namespace minima::jinja {

namespace {

// The tests are Python functions test_x(value, ...): their TypeErrors count the value too.
void check_arity(const CallArgs& args, const char* fn, size_t params) {
  if (args.pos.size() > params) {
    const size_t takes = params + 1;
    type_error(std::string(fn) + "() takes " + std::to_string(takes) + " positional argument" +
               (takes == 1 ? "" : "s") + " but " + std::to_string(args.pos.size() + 1) +
               " were given");
  }
}

const Value& one_arg(const CallArgs& args, const char* fn, const char* param) {
  check_arity(args, fn, 1);
  const Args a(fn, args, {param});
  if (!a.has(0)) {
    type_error(std::string(fn) + "() missing 1 required positional argument: '" + param + "'");
  }
  return a.get(0);
}

void no_args(const CallArgs& args, const char* fn) {
  check_arity(args, fn, 0);
  const Args a(fn, args, {});
}

bool modulo_is(Interp& in, const Value& v, const Value& by, int64_t want) {
  return py_equal(binary_op(in, BinOp::Mod, v, by), Value::integer(want));
}

bool t_odd(Interp& in, const Value& v, CallArgs& a) {
  no_args(a, "test_odd");
  return modulo_is(in, v, Value::integer(2), 1);
}
bool t_even(Interp& in, const Value& v, CallArgs& a) {
  no_args(a, "test_even");
  return modulo_is(in, v, Value::integer(2), 0);
}
bool t_divisibleby(Interp& in, const Value& v, CallArgs& a) {
  return modulo_is(in, v, one_arg(a, "test_divisibleby", "num"), 0);
}
bool t_defined(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_defined");
  return !v.is_undefined();
}
bool t_undefined(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_undefined");
  return v.is_undefined();
}
bool t_none(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_none");
  return v.is_none();
}
bool t_boolean(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_boolean");
  return v.is_bool();
}
bool t_false(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_false");
  return v.is_bool() && !v.bool_value();
}
bool t_true(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_true");
  return v.is_bool() && v.bool_value();
}
bool t_integer(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_integer");
  return v.is_int();
}
bool t_float(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_float");
  return v.is_float();
}
bool t_lower(Interp& in, const Value& v, CallArgs& a) {
  no_args(a, "test_lower");
  CallArgs none;
  return truthy(call_str_method(in, Value::string(in.str(v)), "islower", none));
}
bool t_upper(Interp& in, const Value& v, CallArgs& a) {
  no_args(a, "test_upper");
  CallArgs none;
  return truthy(call_str_method(in, Value::string(in.str(v)), "isupper", none));
}
bool t_string(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_string");
  return v.is_string();
}
bool t_mapping(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_mapping");
  return v.is_dict();
}
bool t_number(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_number");
  return v.is_number();
}
bool t_sequence(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_sequence");
  return v.is_string() || v.is_sequence() || v.is_dict() || v.is_undefined();
}
bool t_iterable(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_iterable");
  return v.is_string() || v.is_sequence() || v.is_dict() || v.is_undefined() || v.is_loop() ||
         v.is_iterator();
}
bool t_callable(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "callable");
  return v.is_callable() || v.is_loop() || v.is_undefined();
}
bool t_escaped(Interp&, const Value& v, CallArgs& a) {
  no_args(a, "test_escaped");
  return v.is_markup();
}
bool t_sameas(Interp&, const Value& v, CallArgs& a) {
  const Value& other = one_arg(a, "test_sameas", "other");
  if (v.kind() != other.kind()) return false;
  switch (v.kind()) {
    case Kind::kNone:
      return true;
    case Kind::kBool:
      return v.bool_value() == other.bool_value();
    case Kind::kInt:  // CPython caches the small ints
      return v.int_value() == other.int_value() && v.int_value() >= -5 && v.int_value() <= 256;
    case Kind::kFloat:
    case Kind::kUndefined:
      return false;
    default:
      return v.identity() == other.identity();
  }
}
bool t_in(Interp& in, const Value& v, CallArgs& a) {
  return contains(in, one_arg(a, "test_in", "seq"), v);
}
bool t_filter(Interp& in, const Value& v, CallArgs& a) {
  no_args(a, "test_filter");
  return v.is_string() && find_filter(in.str(v)) != nullptr;
}
bool t_test(Interp& in, const Value& v, CallArgs& a) {
  no_args(a, "test_test");
  return v.is_string() && find_test(in.str(v)) != nullptr;
}

// The comparison tests are Python's operator functions (operator.eq, ...).
template <CmpOp Op>
bool t_compare(Interp& in, const Value& v, CallArgs& a) {
  static constexpr const char* kNames[] = {"eq", "ne", "lt", "le", "gt", "ge"};
  const char* name = kNames[static_cast<int>(Op)];
  if (a.pos.size() != 1 || !a.kw.empty()) {
    if (!a.kw.empty()) type_error(std::string(name) + "() takes no keyword arguments");
    type_error(std::string(name) + " expected 2 arguments, got " +
               std::to_string(a.pos.size() + 1));
  }
  return compare(in, Op, v, a.pos[0]);
}

struct Entry {
  std::string_view name;
  TestFn fn;
};

constexpr Entry kTests[] = {
    {"!=", t_compare<CmpOp::Ne>},
    {"<", t_compare<CmpOp::Lt>},
    {"<=", t_compare<CmpOp::Le>},
    {"==", t_compare<CmpOp::Eq>},
    {">", t_compare<CmpOp::Gt>},
    {">=", t_compare<CmpOp::Ge>},
    {"boolean", t_boolean},
    {"callable", t_callable},
    {"defined", t_defined},
    {"divisibleby", t_divisibleby},
    {"eq", t_compare<CmpOp::Eq>},
    {"equalto", t_compare<CmpOp::Eq>},
    {"escaped", t_escaped},
    {"even", t_even},
    {"false", t_false},
    {"filter", t_filter},
    {"float", t_float},
    {"ge", t_compare<CmpOp::Ge>},
    {"greaterthan", t_compare<CmpOp::Gt>},
    {"gt", t_compare<CmpOp::Gt>},
    {"in", t_in},
    {"integer", t_integer},
    {"iterable", t_iterable},
    {"le", t_compare<CmpOp::Le>},
    {"lessthan", t_compare<CmpOp::Lt>},
    {"lower", t_lower},
    {"lt", t_compare<CmpOp::Lt>},
    {"mapping", t_mapping},
    {"ne", t_compare<CmpOp::Ne>},
    {"none", t_none},
    {"number", t_number},
    {"odd", t_odd},
    {"sameas", t_sameas},
    {"sequence", t_sequence},
    {"string", t_string},
    {"test", t_test},
    {"true", t_true},
    {"undefined", t_undefined},
    {"upper", t_upper},
};

}  // namespace

TestFn find_test(std::string_view name) {
  for (const auto& e : kTests) {
    if (e.name == name) return e.fn;
  }
  return nullptr;
}

}  // namespace minima::jinja
