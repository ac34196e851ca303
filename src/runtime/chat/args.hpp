// Binds the positional and keyword arguments of a call to a builtin's parameter list, the way
// Python does for a function signature, with Python's TypeError messages on misuse.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "runtime/chat/value.hpp"

namespace minima::jinja {

class Args {
 public:
  Args(std::string fn, const CallArgs& args, std::initializer_list<const char*> names);

  bool has(size_t i) const { return values_[i] != nullptr; }
  // Given and not None.
  bool given(size_t i) const { return has(i) && !values_[i]->is_none(); }
  const Value& get(size_t i) const { return *values_[i]; }
  Value get_or(size_t i, Value fallback) const {
    return has(i) ? *values_[i] : std::move(fallback);
  }
  int64_t get_int(size_t i, int64_t fallback) const;          // TypeError unless a Python int
  bool get_bool(size_t i, bool fallback) const;               // truthiness
  std::string get_str(size_t i, std::string fallback) const;  // TypeError unless a str
  const std::string& fn() const { return fn_; }

 private:
  std::string fn_;
  std::vector<const Value*> values_;
};

// Python's `operator.index`-style integer argument check.
int64_t as_index(const Value& v);

}  // namespace minima::jinja
