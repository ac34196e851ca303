// Parsing and validating OpenAI chat/completions request bodies into what the engine runs.
// Every invalid value is an ApiError 400 naming the parameter; unknown fields are ignored, as
// OpenAI does.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/server/tools.hpp"
#include "runtime/grammar/grammar.hpp"
#include "runtime/grammar/grammar_cache.hpp"
#include "runtime/sample/sampler.hpp"

namespace minima::server {

struct ParsedRequest {
  std::string model;
  nlohmann::ordered_json messages;   // chat: validated, normalized (text parts joined into strings)
  std::vector<std::string> prompts;  // completions: prompt strings
  std::vector<std::vector<int32_t>> prompt_ids;  // completions: prompts given as token ids
  SamplingParams sampling;
  int n = 1;
  std::optional<int64_t> max_tokens;
  std::string max_tokens_param = "max_tokens";  // the field that set it (for error messages)
  std::vector<std::string> stop;
  bool logprobs = false;
  int top_logprobs = 0;
  bool stream = false;
  bool include_usage = false;
  bool echo = false;        // completions
  bool ignore_eos = false;  // extension (as llama-server and vLLM): generate through end-of-text
  std::string user;
  // response_format json_object / json_schema, or the 'grammar' extension; null: free text.
  std::shared_ptr<const grammar::Grammar> grammar;
  std::optional<ToolRequest> tools;  // chat: tools / tool_choice / parallel_tool_calls
};

// body: the raw request body. chat: /v1/chat/completions semantics, else /v1/completions.
// grammars: where response_format / grammar constraints are compiled (shared between requests).
ParsedRequest parse_request(const std::string& body, bool chat, grammar::GrammarCache& grammars);

// The request body as JSON, or a 400 invalid_json ApiError saying where it is malformed. Every
// route that takes a JSON body parses it here.
nlohmann::json parse_json_body(const std::string& body);

}  // namespace minima::server
