// Python's str() and repr() of template values: what `{{ x }}` prints and how lists and dicts
// show their items ([{'type': 'text', 'text': 'hi'}], 1.0, 1e-05, None, True).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/chat/value.hpp"

namespace minima::jinja {

std::string float_repr(double d);  // Python repr(float): shortest round-trip digits
// Python str(v); Undefined prints as "". Fails with LimitError past `limit` bytes.
std::string to_str(const Value& v, size_t limit = SIZE_MAX);
std::string repr(const Value& v, size_t limit = SIZE_MAX);

}  // namespace minima::jinja
