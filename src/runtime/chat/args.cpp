#include "runtime/chat/args.hpp"

#include "runtime/chat/error.hpp"
#include "runtime/chat/value_str.hpp"

namespace minima::jinja {

Args::Args(std::string fn, const CallArgs& args, std::initializer_list<const char*> names)
    : fn_(std::move(fn)), values_(names.size(), nullptr) {
  if (args.pos.size() > names.size()) {
    type_error(fn_ + "() takes at most " + std::to_string(names.size()) + " argument" +
               (names.size() == 1 ? "" : "s") + " (" + std::to_string(args.pos.size()) + " given)");
  }
  for (size_t i = 0; i < args.pos.size(); ++i) values_[i] = &args.pos[i];
  for (const auto& [key, value] : args.kw) {
    size_t i = 0;
    for (const char* n : names) {
      if (key == n) break;
      ++i;
    }
    if (i == names.size()) type_error(fn_ + "() got an unexpected keyword argument '" + key + "'");
    if (values_[i] != nullptr)
      type_error(fn_ + "() got multiple values for argument '" + key + "'");
    values_[i] = &value;
  }
}

int64_t as_index(const Value& v) {
  if (!v.is_integral()) {
    type_error("'" + type_name(v) + "' object cannot be interpreted as an integer");
  }
  return v.int_value();
}

int64_t Args::get_int(size_t i, int64_t fallback) const {
  if (!has(i)) return fallback;
  if (values_[i]->is_undefined()) fail_undefined(*values_[i]);
  return as_index(*values_[i]);
}

bool Args::get_bool(size_t i, bool fallback) const {
  return has(i) ? truthy(*values_[i]) : fallback;
}

std::string Args::get_str(size_t i, std::string fallback) const {
  if (!has(i)) return fallback;
  if (!values_[i]->is_string()) {
    type_error(fn_ + "() argument must be str, not " + type_name(*values_[i]));
  }
  return values_[i]->str();
}

}  // namespace minima::jinja
