// The error a chat template raises. what() is exactly the message Python Jinja2 would give (so a
// server can show the same text a Hugging Face user sees); kind() names the Python exception class
// and line() the template line it was raised at (0 when unknown).
#pragma once

#include <string>

#include "core/error.hpp"

namespace minima {

class TemplateError : public Error {
 public:
  TemplateError(std::string kind, const std::string& message, int line = 0)
      : Error(message), kind_(std::move(kind)), line_(line) {}

  // "TemplateSyntaxError", "TemplateError" (raise_exception), "UndefinedError", "TypeError",
  // "ValueError", "SecurityError", "LimitError" (a RenderOptions limit), ...
  const std::string& kind() const { return kind_; }
  int line() const { return line_; }
  void set_line(int line) {
    if (line_ == 0) line_ = line;
  }

 private:
  std::string kind_;
  int line_;
};

namespace jinja {

// Throw helpers for the interpreter; the statement that was running adds the line on the way out.
[[noreturn]] void throw_error(const char* kind, const std::string& message);
[[noreturn]] inline void type_error(const std::string& m) {
  throw_error("TypeError", m);
}
[[noreturn]] inline void value_error(const std::string& m) {
  throw_error("ValueError", m);
}
[[noreturn]] inline void undefined_error(const std::string& m) {
  throw_error("UndefinedError", m);
}
[[noreturn]] inline void runtime_error(const std::string& m) {
  throw_error("TemplateRuntimeError", m);
}
[[noreturn]] inline void security_error(const std::string& m) {
  throw_error("SecurityError", m);
}
[[noreturn]] inline void limit_error(const std::string& m) {
  throw_error("LimitError", m);
}

}  // namespace jinja
}  // namespace minima
