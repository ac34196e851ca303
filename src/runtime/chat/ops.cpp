#include "runtime/chat/ops.hpp"

#include <cmath>

#include "runtime/chat/error.hpp"
#include "runtime/chat/interp.hpp"
#include "runtime/chat/pystr.hpp"

namespace minima::jinja {

namespace {

const char* op_symbol(BinOp op) {
  switch (op) {
    case BinOp::Add:
      return "+";
    case BinOp::Sub:
      return "-";
    case BinOp::Mul:
      return "*";
    case BinOp::Div:
      return "/";
    case BinOp::FloorDiv:
      return "//";
    case BinOp::Mod:
      return "%";
    case BinOp::Pow:
      return "** or pow()";
  }
  return "?";
}

[[noreturn]] void unsupported(BinOp op, const Value& a, const Value& b) {
  type_error(std::string("unsupported operand type(s) for ") + op_symbol(op) + ": '" +
             type_name(a) + "' and '" + type_name(b) + "'");
}

[[noreturn]] void zero_division(const std::string& m) {
  throw_error("ZeroDivisionError", m);
}

[[noreturn]] void int_overflow() {
  limit_error("integer result does not fit in 64 bits (Python would use a big integer)");
}

int64_t floor_div(int64_t a, int64_t b) {
  if (a == INT64_MIN && b == -1) int_overflow();
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t floor_mod(int64_t a, int64_t b) {
  if (b == -1) return 0;
  int64_t m = a % b;
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

Value float_divmod(double x, double y, bool want_div) {
  if (y == 0.0) zero_division(want_div ? "float floor division by zero" : "float modulo");
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0.0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, y);
  }
  if (!want_div) return Value::number(mod);
  double floordiv;
  if (div != 0.0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, x / y);
  }
  return Value::number(floordiv);
}

Value int_pow(int64_t a, int64_t b) {
  if (b < 0) {
    if (a == 0) zero_division("0.0 cannot be raised to a negative power");
    return Value::number(std::pow(static_cast<double>(a), static_cast<double>(b)));
  }
  int64_t result = 1;
  int64_t base = a;
  while (b > 0) {
    if (b & 1) {
      if (__builtin_mul_overflow(result, base, &result)) int_overflow();
    }
    b >>= 1;
    if (b > 0 && __builtin_mul_overflow(base, base, &base)) int_overflow();
  }
  return Value::integer(result);
}

Value arith(BinOp op, const Value& a, const Value& b) {
  if (a.is_integral() && b.is_integral()) {
    const int64_t x = a.int_value();
    const int64_t y = b.int_value();
    int64_t r = 0;
    switch (op) {
      case BinOp::Add:
        if (__builtin_add_overflow(x, y, &r)) int_overflow();
        return Value::integer(r);
      case BinOp::Sub:
        if (__builtin_sub_overflow(x, y, &r)) int_overflow();
        return Value::integer(r);
      case BinOp::Mul:
        if (__builtin_mul_overflow(x, y, &r)) int_overflow();
        return Value::integer(r);
      case BinOp::Div:
        if (y == 0) zero_division("division by zero");
        return Value::number(static_cast<double>(x) / static_cast<double>(y));
      case BinOp::FloorDiv:
        if (y == 0) zero_division("integer division or modulo by zero");
        return Value::integer(floor_div(x, y));
      case BinOp::Mod:
        if (y == 0) zero_division("integer modulo by zero");
        return Value::integer(floor_mod(x, y));
      case BinOp::Pow:
        return int_pow(x, y);
    }
  }
  const double x = a.float_value();
  const double y = b.float_value();
  switch (op) {
    case BinOp::Add:
      return Value::number(x + y);
    case BinOp::Sub:
      return Value::number(x - y);
    case BinOp::Mul:
      return Value::number(x * y);
    case BinOp::Div:
      if (y == 0.0) zero_division("float division by zero");
      return Value::number(x / y);
    case BinOp::FloorDiv:
      return float_divmod(x, y, true);
    case BinOp::Mod:
      return float_divmod(x, y, false);
    case BinOp::Pow: {
      if (x == 0.0 && y < 0) zero_division("0.0 cannot be raised to a negative power");
      if (x < 0 && y != std::floor(y)) value_error("complex results are not supported");
      const double r = std::pow(x, y);
      if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) {
        throw_error("OverflowError", "(34, 'Numerical result out of range')");
      }
      return Value::number(r);
    }
  }
  return Value::none();
}

Value concat_strings(Interp& in, const Value& a, const Value& b) {
  const bool markup = a.is_markup() || b.is_markup();
  const std::string left = markup && !a.is_markup() ? pystr::html_escape(a.str()) : a.str();
  const std::string& right_raw = b.str();
  const std::string right = markup && !b.is_markup() ? pystr::html_escape(right_raw) : right_raw;
  in.check_size(left.size() + right.size());
  return in.make_string(left + right, markup);
}

Value repeat(Interp& in, const Value& seq, int64_t n) {
  if (n <= 0) {
    if (seq.is_string()) return Value::string_like("", seq.is_markup());
    return seq.is_list() ? Value::list({}) : Value::tuple({});
  }
  if (seq.is_string()) {
    const std::string& s = seq.str();
    if (!s.empty() && static_cast<uint64_t>(n) > in.max_output() / s.size())
      in.check_size(SIZE_MAX);
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += s;
    return in.make_string(std::move(out), seq.is_markup());
  }
  const List& items = seq.items();
  if (!items.empty()) {
    if (static_cast<uint64_t>(n) > in.max_output() / items.size()) in.charge_items(SIZE_MAX);
    in.charge_items(static_cast<size_t>(n) * items.size());
  }
  List out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_list() ? Value::list(std::move(out)) : Value::tuple(std::move(out));
}

bool is_repeatable(const Value& v) {
  return v.is_string() || v.is_sequence();
}

}  // namespace

Value binary_op(Interp& in, BinOp op, const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  // str % x is str.__mod__, which takes an Undefined argument like any other object.
  if (op == BinOp::Mod && a.is_string()) return percent_format(in, a, b);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) return arith(op, a, b);
  switch (op) {
    case BinOp::Add:
      if (a.is_string() && b.is_string()) return concat_strings(in, a, b);
      if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
        in.charge_items(a.items().size() + b.items().size());
        List out = a.items();
        out.insert(out.end(), b.items().begin(), b.items().end());
        return a.is_list() ? Value::list(std::move(out)) : Value::tuple(std::move(out));
      }
      if ((a.is_string() && !a.is_markup()) || a.is_list() || a.is_tuple()) {
        const std::string t = a.is_string() ? "str" : type_name(a);
        type_error("can only concatenate " + t + " (not \"" + type_name(b) + "\") to " + t);
      }
      unsupported(op, a, b);
    case BinOp::Mul:
      if (is_repeatable(a) && b.is_integral()) return repeat(in, a, b.int_value());
      if (a.is_integral() && is_repeatable(b)) return repeat(in, b, a.int_value());
      if (is_repeatable(a) && !b.is_markup()) {
        type_error("can't multiply sequence by non-int of type '" + type_name(b) + "'");
      }
      if (is_repeatable(b) && !a.is_markup() && !is_repeatable(a)) {
        type_error("can't multiply sequence by non-int of type '" + type_name(a) + "'");
      }
      unsupported(op, a, b);
    case BinOp::Mod:
      if (a.is_string()) return percent_format(in, a, b);
      unsupported(op, a, b);
    default:
      unsupported(op, a, b);
  }
}

Value negate(const Value& a, bool minus) {
  if (a.is_undefined()) fail_undefined(a);
  if (a.is_float()) return Value::number(minus ? -a.float_value() : a.float_value());
  if (a.is_integral()) {
    if (!minus) return Value::integer(a.int_value());
    if (a.int_value() == INT64_MIN) int_overflow();
    return Value::integer(-a.int_value());
  }
  type_error(std::string("bad operand type for unary ") + (minus ? "-" : "+") + ": '" +
             type_name(a) + "'");
}

namespace {

// Python's rich comparison for <, <=, >, >=. Returns the result of `a OP b`.
bool ordered(Interp& in, CmpOp op, const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  int c = 0;  // -1, 0, 1
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) {
      c = a.int_value() < b.int_value() ? -1 : a.int_value() > b.int_value() ? 1 : 0;
    } else {
      const double x = a.float_value();
      const double y = b.float_value();
      if (std::isnan(x) || std::isnan(y)) return false;
      c = x < y ? -1 : x > y ? 1 : 0;
    }
  } else if (a.is_string() && b.is_string()) {
    const int r = a.str().compare(b.str());
    c = r < 0 ? -1 : r > 0 ? 1 : 0;
  } else if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
    const List& x = a.items();
    const List& y = b.items();
    size_t i = 0;
    while (i < x.size() && i < y.size() && py_equal(x[i], y[i], in.steps())) ++i;
    if (i < x.size() && i < y.size()) return ordered(in, op, x[i], y[i]);
    c = x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  } else {
    const char* sym = op == CmpOp::Lt ? "<" : op == CmpOp::Le ? "<=" : op == CmpOp::Gt ? ">" : ">=";
    type_error(std::string("'") + sym + "' not supported between instances of '" + type_name(a) +
               "' and '" + type_name(b) + "'");
  }
  switch (op) {
    case CmpOp::Lt:
      return c < 0;
    case CmpOp::Le:
      return c <= 0;
    case CmpOp::Gt:
      return c > 0;
    default:
      return c >= 0;
  }
}

}  // namespace

bool py_less(Interp& in, const Value& a, const Value& b) {
  return ordered(in, CmpOp::Lt, a, b);
}

bool compare(Interp& in, CmpOp op, const Value& a, const Value& b) {
  switch (op) {
    case CmpOp::Eq:
      return py_equal(a, b, in.steps());
    case CmpOp::Ne:
      return !py_equal(a, b, in.steps());
    case CmpOp::In:
      return contains(in, b, a);
    case CmpOp::NotIn:
      return !contains(in, b, a);
    default:
      return ordered(in, op, a, b);
  }
}

bool contains(Interp& in, const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::kUndefined:
      return false;
    case Kind::kString:
      if (!item.is_string()) {
        type_error("'in <string>' requires string as left operand, not " + type_name(item));
      }
      return container.str().find(item.str()) != std::string::npos;
    case Kind::kList:
    case Kind::kTuple:
      for (const Value& v : container.items()) {
        if (py_equal(v, item, in.steps())) return true;
      }
      return false;
    case Kind::kDict:
      if (!hashable(item)) type_error("unhashable type: '" + type_name(item) + "'");
      return container.dict().find(item) != nullptr;
    case Kind::kIterator:
      // Like Python, consumes the iterator up to the match.
      while (const Value* v = container.iterator().next()) {
        if (py_equal(*v, item, in.steps())) return true;
      }
      return false;
    default:
      type_error("argument of type '" + type_name(container) + "' is not iterable");
  }
}

}  // namespace minima::jinja
