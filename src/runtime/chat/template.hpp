// Chat templates: Jinja2 templates rendered exactly as Hugging Face transformers renders them
// (an ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loop controls, the
// {% generation %} tag, raise_exception, strftime_now and its tojson).
//
//   const ChatTemplate t = ChatTemplate::parse(source);          // TemplateError on bad syntax
//   std::string prompt = t.render({{"messages", msgs}, {"add_generation_prompt", true},
//                                  {"bos_token", "<s>"}});       // TemplateError on failure
//
// A render error's what() is the message Python would give (raise_exception's text, "'x' is
// undefined", ...); TemplateError::line() says where. Limits keep hostile templates in check.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/chat/error.hpp"

namespace minima {

struct RenderOptions {
  // The time strftime_now() sees, as "2026-07-15T08:30:00"; empty means the local clock.
  std::string strftime_now_time = "";
  // Fail with a LimitError when the output (or any string the template builds) grows past this.
  size_t max_output_bytes = 1 << 24;
  // Fail with a LimitError after this many evaluation steps (about one per expression node,
  // statement and loop iteration, plus one per 8 bytes of text built).
  int64_t max_steps = 50'000'000;
};

namespace jinja {
struct Program;
}

class ChatTemplate {
 public:
  // Throws TemplateError (kind "TemplateSyntaxError") naming line and column.
  static ChatTemplate parse(std::string_view source);

  // Every key of `context` (a JSON object) becomes a template variable: messages, tools,
  // add_generation_prompt, bos_token, eos_token, ... Throws TemplateError when rendering fails
  // and Error when the context is not an object.
  std::string render(const nlohmann::ordered_json& context, const RenderOptions& opt = {}) const;

 private:
  explicit ChatTemplate(std::shared_ptr<const jinja::Program> program);
  std::shared_ptr<const jinja::Program> program_;
};

// Small built-in templates for models that ship none: "chatml", "llama3", "zephyr".
std::optional<std::string_view> builtin_template(std::string_view name);

}  // namespace minima
