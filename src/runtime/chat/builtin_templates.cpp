// Fallback chat templates for models whose GGUF carries none. Our own minimal sources: each
// renders a message's content whether it is a string or a list of {"type": "text"} parts.
#include <array>
#include <utility>

#include "runtime/chat/template.hpp"

namespace minima {

namespace {

#define MINIMA_CONTENT_MACRO                                                              \
  "{%- macro text(content) -%}"                                                           \
  "{%- if content is string -%}{{ content }}"                                             \
  "{%- elif content is iterable -%}"                                                      \
  "{%- for part in content if part is mapping and part.type == 'text' -%}{{ part.text }}" \
  "{%- endfor -%}"                                                                        \
  "{%- endif -%}"                                                                         \
  "{%- endmacro -%}"

constexpr std::string_view kChatml = MINIMA_CONTENT_MACRO
    "{%- for message in messages -%}"
    "{{ '<|im_start|>' + message.role + '\\n' + text(message.content) + '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}";

constexpr std::string_view kLlama3 = MINIMA_CONTENT_MACRO
    "{{- bos_token if bos_token is defined else '<|begin_of_text|>' -}}"
    "{%- for message in messages -%}"
    "{{ '<|start_header_id|>' + message.role + '<|end_header_id|>\\n\\n' + "
    "text(message.content) | trim + '<|eot_id|>' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- endif -%}";

constexpr std::string_view kZephyr = MINIMA_CONTENT_MACRO
    "{%- set eos = eos_token if eos_token is defined else '</s>' -%}"
    "{%- for message in messages -%}"
    "{{ '<|' + message.role + '|>\\n' + text(message.content) + eos + '\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|assistant|>\\n' }}{%- endif -%}";

#undef MINIMA_CONTENT_MACRO

constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kBuiltins = {{
    {"chatml", kChatml},
    {"llama3", kLlama3},
    {"zephyr", kZephyr},
}};

}  // namespace

std::optional<std::string_view> builtin_template(std::string_view name) {
  for (const auto& [n, source] : kBuiltins) {
    if (n == name) return source;
  }
  return std::nullopt;
}

}  // namespace minima
