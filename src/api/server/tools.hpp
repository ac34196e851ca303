// Tool (function) calling: the request's tools and tool_choice, the model's native call syntax,
// the grammar that makes a call well-formed, and the calls read back out of the generated text.
//
// Native syntaxes (chosen from the chat template's text; templates that know none get Hermes):
//   Hermes / Qwen2.5 / Qwen3:  <tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>
//                              (several calls: one block after another, newline-separated)
//   Llama 3.1 / 3.2 (JSON):    {"name": "f", "parameters": {...}}  (one call)
//   Mistral:                   [TOOL_CALLS][{"name": "f", "arguments": {...}}, ...]
// tool_choice "required" or a named function constrains the whole output to calls (arguments
// valid against the tool's parameters schema); "auto" arms a lazy grammar that engages when the
// model writes the syntax's opening (the trigger), so free text stays free and a call, once
// started, is well-formed; "none" sends the tools to the template but constrains nothing.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minima::server {

enum class ToolFormat { Hermes, Llama3, Mistral };
ToolFormat tool_format_of(std::string_view template_source);

struct ToolRequest {
  enum class Choice { None, Auto, Required, Named };
  nlohmann::ordered_json tools;  // the request's tools (for the template), validated
  std::vector<std::string> names;
  std::vector<nlohmann::ordered_json> parameters;  // per tool: its parameters schema
  std::vector<bool> strict;
  Choice choice = Choice::Auto;
  std::string named;     // Named: the function
  bool parallel = true;  // parallel_tool_calls
  bool active() const { return !names.empty() && choice != Choice::None; }
};

// Reads tools / tool_choice / parallel_tool_calls from the request body, parsed in key order (so
// parameters' properties keep the order the user wrote). Throws ApiError 400 naming the
// parameter. nullopt when the request has no tools.
std::optional<ToolRequest> parse_tools(const nlohmann::ordered_json& body);

// Grammar text whose sentences are the calls (one, or one or more when parallel), each with
// arguments valid against its tool's parameters. Throws ApiError 400 (param tools[i]...) when a
// parameters schema cannot be enforced.
std::string tool_calls_gbnf(const ToolRequest& t, ToolFormat f);
// What opens a call in free text (auto mode's trigger).
std::string tool_call_trigger(ToolFormat f);

struct ToolCall {
  std::string name;
  std::string arguments;  // JSON text
};
struct ParsedOutput {
  std::string content;  // the text before the first call (all of it when there is none)
  std::vector<ToolCall> calls;
};
// The calls in a generated text (any complete calls in the format; a cut-off call is left in
// content).
ParsedOutput parse_tool_calls(std::string_view text, ToolFormat f);

// Incremental reader for streaming: feed text as it comes; it returns what may be shown as
// content now (holding back a possible start of a call) and reports calls' names and argument
// fragments as they complete, like OpenAI's tool_calls deltas.
class ToolStream {
 public:
  explicit ToolStream(ToolFormat f) : f_(f) {}
  struct Delta {
    std::string content;
    struct Call {
      int index;
      std::optional<std::string> name;  // set on the first delta of a call
      std::string arguments;            // fragment
    };
    std::vector<Call> calls;
  };
  Delta push(std::string_view text);
  Delta finish();  // end of the choice: anything held back that was not a call is content
  bool saw_call() const { return n_calls_ > 0; }

 private:
  Delta scan(bool final);
  ToolFormat f_;
  std::string buf_;        // content mode: text not yet shown; call mode: the calls' text
  bool in_calls_ = false;  // the trigger has been seen: everything after it is calls
  int n_calls_ = 0;
  size_t done_ = 0;       // call mode: bytes of buf_ already read
  bool in_args_ = false;  // inside a call's arguments
  int depth_ = 0;         // of brackets in the arguments
  bool in_string_ = false, escape_ = false;
};

}  // namespace minima::server
