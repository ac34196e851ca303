#include "api/server/openai_request.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "api/server/api_error.hpp"
#include "runtime/grammar/grammar.hpp"
#include "runtime/grammar/json_schema.hpp"

namespace minima::server {
namespace {

using json = nlohmann::ordered_json;

const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return nullptr;  // null means "use the default", like OpenAI
  return &*it;
}

std::string fmt(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", x);
  return b;
}

double number(const json& body, const char* name, double def, double lo, double hi) {
  const json* v = field(body, name);
  if (!v) return def;
  if (!v->is_number()) throw bad_param(name, std::string("'") + name + "' must be a number");
  const double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    throw bad_param(name, std::string("'") + name + "' must be between " + fmt(lo) + " and " +
                              fmt(hi) + ", got " + v->dump());
  return x;
}

int64_t integer(const json& body, const char* name, int64_t def, int64_t lo, int64_t hi) {
  const json* v = field(body, name);
  if (!v) return def;
  if (!v->is_number_integer())
    throw bad_param(name, std::string("'") + name + "' must be an integer");
  const int64_t x = v->get<int64_t>();
  if (x < lo || x > hi)
    throw bad_param(name, std::string("'") + name + "' must be between " + std::to_string(lo) +
                              " and " + std::to_string(hi) + ", got " + std::to_string(x));
  return x;
}

bool boolean(const json& body, const char* name, bool def) {
  const json* v = field(body, name);
  if (!v) return def;
  if (!v->is_boolean()) throw bad_param(name, std::string("'") + name + "' must be a boolean");
  return v->get<bool>();
}

// Message content: a string, or a list of {"type": "text", "text": ...} parts (joined).
std::string content_text(const json& c, const std::string& where) {
  if (c.is_string()) return c.get<std::string>();
  if (!c.is_array())
    throw bad_param(where, where + " must be a string or an array of content parts");
  std::string out;
  for (size_t i = 0; i < c.size(); ++i) {
    const json& p = c[i];
    const std::string pw = where + "[" + std::to_string(i) + "]";
    if (!p.is_object() || !p.contains("type") || !p["type"].is_string())
      throw bad_param(pw, pw + " must be an object with a 'type'");
    const std::string type = p["type"].get<std::string>();
    if (type != "text")
      throw bad_param(pw + ".type",
                      "content part type '" + type + "' is not supported (only 'text')");
    if (!p.contains("text") || !p["text"].is_string())
      throw bad_param(pw + ".text", pw + ".text must be a string");
    out += p["text"].get<std::string>();
  }
  return out;
}

json parse_messages(const json& body) {
  const json* m = field(body, "messages");
  if (!m) throw bad_param("messages", "'messages' is required");
  if (!m->is_array() || m->empty())
    throw bad_param("messages", "'messages' must be a non-empty array");
  json out = json::array();
  for (size_t i = 0; i < m->size(); ++i) {
    const json& msg = (*m)[i];
    const std::string w = "messages[" + std::to_string(i) + "]";
    if (!msg.is_object()) throw bad_param(w, w + " must be an object");
    if (!msg.contains("role") || !msg["role"].is_string())
      throw bad_param(w + ".role", w + ".role must be a string");
    std::string role = msg["role"].get<std::string>();
    if (role != "system" && role != "developer" && role != "user" && role != "assistant" &&
        role != "tool")
      throw bad_param(w + ".role", "unknown role '" + role +
                                       "' (expected system, developer, user, assistant or tool)");
    json o = json::object();
    o["role"] =
        role == "developer" ? "system" : role;  // templates know "system"; OpenAI treats them alike
    const bool has_tool_calls = msg.contains("tool_calls") && !msg["tool_calls"].is_null();
    if (!msg.contains("content") || msg["content"].is_null()) {
      if (!(role == "assistant" && has_tool_calls))
        throw bad_param(w + ".content", w + ".content is required");
      o["content"] = "";
    } else {
      o["content"] = content_text(msg["content"], w + ".content");
    }
    if (has_tool_calls) o["tool_calls"] = msg["tool_calls"];
    if (role == "tool") {
      if (!msg.contains("tool_call_id") || !msg["tool_call_id"].is_string())
        throw bad_param(w + ".tool_call_id", "tool messages need a string 'tool_call_id'");
      o["tool_call_id"] = msg["tool_call_id"];
    }
    if (msg.contains("name") && msg["name"].is_string()) o["name"] = msg["name"];
    out.push_back(std::move(o));
  }
  return out;
}

// response_format (text, json_object, json_schema) and the 'grammar' extension (grammar text,
// as `minima generate --grammar` takes) into the request's grammar. The schema is taken from the
// body parsed in key order (ordered), so the output's keys come in the order the user wrote them.
void parse_constraint(const nlohmann::ordered_json& ordered, const json& body, ParsedRequest& r,
                      grammar::GrammarCache& grammars) {
  const json* rf = field(body, "response_format");
  const json* gr = field(body, "grammar");
  if (rf && gr) throw bad_param("grammar", "give 'response_format' or 'grammar', not both");
  if (gr) {
    if (!gr->is_string()) throw bad_param("grammar", "'grammar' must be a string of grammar text");
    try {
      r.grammar = grammars.get(gr->get<std::string>());
    } catch (const grammar::GrammarError& e) {
      throw bad_param("grammar", std::string("invalid grammar: ") + e.what());
    }
    return;
  }
  if (!rf) return;
  if (!rf->is_object()) throw bad_param("response_format", "'response_format' must be an object");
  const json* type = field(*rf, "type");
  if (!type || !type->is_string())
    throw bad_param("response_format.type",
                    "'response_format.type' must be one of 'text', 'json_object', 'json_schema'");
  const std::string t = type->get<std::string>();
  if (t == "text") return;
  if (t == "json_object") {
    r.grammar = grammars.get(grammar::json_value_gbnf(true));
    return;
  }
  if (t != "json_schema")
    throw bad_param(
        "response_format.type",
        "'response_format.type' must be one of 'text', 'json_object', 'json_schema', got '" + t +
            "'");
  const json* js = field(*rf, "json_schema");
  if (!js || !js->is_object())
    throw bad_param("response_format.json_schema",
                    "'response_format.json_schema' must be an object with 'name' and 'schema'");
  const json* name = field(*js, "name");
  if (!name || !name->is_string() || name->get<std::string>().empty() ||
      name->get<std::string>().size() > 64 ||
      name->get<std::string>().find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos)
    throw bad_param(
        "response_format.json_schema.name",
        "'response_format.json_schema.name' must be 1-64 characters of a-z, A-Z, 0-9, '_' and '-'");
  grammar::SchemaOptions opt;
  if (const json* strict = field(*js, "strict")) {
    if (!strict->is_boolean())
      throw bad_param("response_format.json_schema.strict",
                      "'response_format.json_schema.strict' must be a boolean");
    opt.strict = strict->get<bool>();
  } else {
    opt.strict = false;  // OpenAI's default
  }
  const json* schema = field(*js, "schema");
  if (!schema)
    throw bad_param("response_format.json_schema.schema",
                    "'response_format.json_schema.schema' is required");
  if (!schema->is_object())
    throw bad_param("response_format.json_schema.schema",
                    "'response_format.json_schema.schema' must be an object");
  const auto& oschema = ordered.at("response_format").at("json_schema").at("schema");
  try {
    r.grammar = grammars.get(grammar::json_schema_to_gbnf(oschema, opt));
  } catch (const grammar::SchemaError& e) {
    throw bad_param("response_format.json_schema.schema",
                    std::string("invalid or unsupported schema: ") + e.what());
  } catch (const grammar::GrammarError& e) {
    throw bad_param("response_format.json_schema.schema",
                    std::string("schema too complex: ") + e.what());
  }
}

}  // namespace

nlohmann::json parse_json_body(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw ApiError(400, "invalid_request_error",
                   std::string("the request body is not valid JSON: ") + e.what(), std::nullopt,
                   "invalid_json");
  }
}

ParsedRequest parse_request(const std::string& text, bool chat, grammar::GrammarCache& grammars) {
  const json body = parse_json_body(text);
  if (!body.is_object())
    throw ApiError(400, "invalid_request_error", "the request body must be a JSON object");

  ParsedRequest r;
  const json* model = field(body, "model");
  if (!model) throw bad_param("model", "'model' is required");
  if (!model->is_string()) throw bad_param("model", "'model' must be a string");
  r.model = model->get<std::string>();

  if (chat) {
    r.messages = parse_messages(body);
  } else {
    const json* p = field(body, "prompt");
    if (!p) throw bad_param("prompt", "'prompt' is required");
    if (p->is_string()) {
      r.prompts.push_back(p->get<std::string>());
    } else if (p->is_array() && !p->empty() && (*p)[0].is_number_integer()) {
      std::vector<int32_t> ids;
      for (const auto& x : *p) {
        if (!x.is_number_integer())
          throw bad_param("prompt", "a token-id prompt must hold only integers");
        ids.push_back(x.get<int32_t>());
      }
      r.prompt_ids.push_back(std::move(ids));
    } else if (p->is_array() && !p->empty()) {
      for (const auto& x : *p) {
        if (!x.is_string())
          throw bad_param("prompt",
                          "'prompt' must be a string, an array of strings or of token ids");
        r.prompts.push_back(x.get<std::string>());
      }
    } else {
      throw bad_param(
          "prompt", "'prompt' must be a non-empty string, array of strings or array of token ids");
    }
    r.echo = boolean(body, "echo", false);
  }

  // OpenAI defaults: temperature 1, top_p 1, no top-k / min-p unless the extensions are given.
  SamplingParams& sp = r.sampling;
  sp.temperature = static_cast<float>(number(body, "temperature", 1.0, 0.0, 2.0));
  sp.top_p = static_cast<float>(number(body, "top_p", 1.0, 0.0, 1.0));
  sp.top_k = static_cast<int32_t>(integer(body, "top_k", 0, 0, 1 << 20));
  sp.min_p = static_cast<float>(number(body, "min_p", 0.0, 0.0, 1.0));
  sp.presence_penalty = static_cast<float>(number(body, "presence_penalty", 0.0, -2.0, 2.0));
  sp.frequency_penalty = static_cast<float>(number(body, "frequency_penalty", 0.0, -2.0, 2.0));
  sp.repeat_penalty = static_cast<float>(number(body, "repetition_penalty", 1.0, 1e-3, 10.0));
  sp.penalty_last_n = 64;
  if (const json* s = field(body, "seed")) {
    if (!s->is_number_integer()) throw bad_param("seed", "'seed' must be an integer");
    sp.seed = static_cast<uint64_t>(s->get<int64_t>());
  } else {
    sp.seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  if (const json* lb = field(body, "logit_bias")) {
    if (!lb->is_object())
      throw bad_param("logit_bias", "'logit_bias' must map token ids to numbers");
    for (const auto& [k, v] : lb->items()) {
      int32_t id = 0;
      try {
        size_t used = 0;
        id = std::stoi(k, &used);
        if (used != k.size()) throw std::invalid_argument(k);
      } catch (const std::exception&) {
        throw bad_param("logit_bias", "logit_bias key '" + k + "' is not a token id");
      }
      if (!v.is_number() || v.get<double>() < -100 || v.get<double>() > 100)
        throw bad_param("logit_bias", "logit_bias values must be numbers between -100 and 100");
      sp.logit_bias.emplace_back(id, v.get<float>());
    }
  }

  r.n = static_cast<int>(integer(body, "n", 1, 1, 16));
  const int64_t mt = integer(body, "max_tokens", -1, 1, int64_t(1) << 30);
  const int64_t mct = integer(body, "max_completion_tokens", -1, 1, int64_t(1) << 30);
  if (mct > 0) {
    r.max_tokens = mct;
    r.max_tokens_param = "max_completion_tokens";
  } else if (mt > 0) {
    r.max_tokens = mt;
  }

  if (const json* s = field(body, "stop")) {
    if (s->is_string()) {
      r.stop.push_back(s->get<std::string>());
    } else if (s->is_array()) {
      if (s->size() > 4) throw bad_param("stop", "'stop' takes at most 4 sequences");
      for (const auto& x : *s) {
        if (!x.is_string())
          throw bad_param("stop", "'stop' must be a string or an array of strings");
        r.stop.push_back(x.get<std::string>());
      }
    } else {
      throw bad_param("stop", "'stop' must be a string or an array of strings");
    }
    for (const auto& x : r.stop)
      if (x.empty()) throw bad_param("stop", "stop sequences must not be empty");
  }

  if (chat) {
    r.logprobs = boolean(body, "logprobs", false);
    r.top_logprobs = static_cast<int>(integer(body, "top_logprobs", 0, 0, 20));
    if (field(body, "top_logprobs") && !r.logprobs)
      throw bad_param("top_logprobs", "'top_logprobs' needs 'logprobs' set to true");
  } else if (const json* lp = field(body, "logprobs")) {  // completions: an integer count
    if (!lp->is_number_integer() || lp->get<int64_t>() < 0 || lp->get<int64_t>() > 5)
      throw bad_param("logprobs", "'logprobs' must be an integer between 0 and 5");
    r.logprobs = true;
    r.top_logprobs = lp->get<int>();
  }
  r.ignore_eos = boolean(body, "ignore_eos", false);
  r.stream = boolean(body, "stream", false);
  if (const json* so = field(body, "stream_options")) {
    if (!r.stream)
      throw bad_param("stream_options", "'stream_options' is only allowed when 'stream' is true");
    if (!so->is_object()) throw bad_param("stream_options", "'stream_options' must be an object");
    r.include_usage = boolean(*so, "include_usage", false);
  }
  if (const json* u = field(body, "user")) {
    if (!u->is_string()) throw bad_param("user", "'user' must be a string");
    r.user = u->get<std::string>();
  }
  // The body once more in key order, for what must keep the user's order (schemas' properties).
  const bool keyed = field(body, "response_format") || field(body, "tools") ||
                     field(body, "tool_choice") || field(body, "parallel_tool_calls");
  const auto ordered = keyed ? nlohmann::ordered_json::parse(text) : nlohmann::ordered_json();
  parse_constraint(ordered, body, r, grammars);
  if (chat) {
    r.tools = parse_tools(ordered);
    if (r.tools && r.tools->active() && r.grammar)
      throw bad_param(field(body, "grammar") ? "grammar" : "response_format",
                      "a response format or grammar together with tools is not supported (use "
                      "tool_choice 'none' to keep the tools in the prompt only)");
  } else if (field(body, "tools") || field(body, "tool_choice")) {
    throw bad_param(field(body, "tools") ? "tools" : "tool_choice",
                    "tools are supported on /v1/chat/completions only");
  }
  for (const char* unsupported : {"functions", "function_call"}) {
    if (field(body, unsupported))
      throw bad_param(unsupported,
                      std::string("'") + unsupported + "' is not supported by this server yet");
  }
  return r;
}

}  // namespace minima::server
