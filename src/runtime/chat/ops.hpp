// Python's operators on template values, with Python's TypeError messages (a chat template that
// adds a str and a list must fail with exactly "can only concatenate str (not "list") to str").
#pragma once

#include <string>
#include <string_view>

#include "runtime/chat/ast.hpp"
#include "runtime/chat/value.hpp"

namespace minima::jinja {

class Interp;

Value binary_op(Interp& in, BinOp op, const Value& a, const Value& b);
Value negate(const Value& a, bool minus);  // unary - and +
bool compare(Interp& in, CmpOp op, const Value& a, const Value& b);
// Python `a < b`; TypeError when the types are not ordered.
bool py_less(Interp& in, const Value& a, const Value& b);
// Python `item in container`.
bool contains(Interp& in, const Value& container, const Value& item);
// printf-style `fmt % args` (markupsafe escapes the arguments when fmt is Markup).
Value percent_format(Interp& in, const Value& fmt, const Value& args);
// str.format(*args, **kwargs).
std::string str_format(Interp& in, std::string_view fmt, const CallArgs& args);

}  // namespace minima::jinja
