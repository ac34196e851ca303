#include "runtime/chat/template.hpp"

#include <nlohmann/json.hpp>

#include <new>

#include "runtime/chat/interp.hpp"
#include "runtime/chat/json_value.hpp"
#include "runtime/chat/lexer.hpp"
#include "runtime/chat/parser.hpp"
#include "runtime/chat/strftime.hpp"

namespace minima {

namespace jinja {

struct Program {
  Body body;
};

void throw_error(const char* kind, const std::string& message) {
  throw TemplateError(kind, message);
}

}  // namespace jinja

ChatTemplate::ChatTemplate(std::shared_ptr<const jinja::Program> program)
    : program_(std::move(program)) {}

ChatTemplate ChatTemplate::parse(std::string_view source) {
  auto program = std::make_shared<jinja::Program>();
  const std::string normalized = jinja::normalize_source(source);
  program->body = jinja::parse_template(normalized);
  return ChatTemplate(std::move(program));
}

std::string ChatTemplate::render(const nlohmann::ordered_json& context,
                                 const RenderOptions& opt) const {
  if (!context.is_object()) throw Error("chat template context must be a JSON object");
  const std::tm now = opt.strftime_now_time.empty() ? jinja::local_now()
                                                    : jinja::parse_iso_time(opt.strftime_now_time);
  try {
    auto root = std::make_shared<jinja::Scope>();
    for (auto it = context.begin(); it != context.end(); ++it) {
      root->set(it.key(), jinja::from_json(it.value()));
    }
    jinja::Interp interp(opt.max_output_bytes, opt.max_steps, now);
    return interp.render(program_->body, std::move(root));
  } catch (const std::bad_alloc&) {
    throw TemplateError("MemoryError", "out of memory while rendering the chat template");
  }
}

}  // namespace minima
