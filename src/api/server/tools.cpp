#include "api/server/tools.hpp"

#include <algorithm>

#include "api/server/api_error.hpp"
#include "runtime/grammar/grammar.hpp"
#include "runtime/grammar/json_schema.hpp"

namespace minima::server {
namespace {

using ojson = nlohmann::ordered_json;

bool valid_name(const std::string& n) {
  return !n.empty() && n.size() <= 64 &&
         n.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
             std::string::npos;
}

const char* args_key(ToolFormat f) {
  return f == ToolFormat::Llama3 ? "parameters" : "arguments";
}

}  // namespace

ToolFormat tool_format_of(std::string_view src) {
  if (src.find("[TOOL_CALLS]") != std::string_view::npos) return ToolFormat::Mistral;
  if (src.find("<tool_call>") != std::string_view::npos) return ToolFormat::Hermes;
  if (src.find("<|python_tag|>") != std::string_view::npos ||
      src.find("Environment: ipython") != std::string_view::npos ||
      (src.find("<|start_header_id|>") != std::string_view::npos &&
       src.find("tools") != std::string_view::npos))
    return ToolFormat::Llama3;
  return ToolFormat::Hermes;
}

std::optional<ToolRequest> parse_tools(const ojson& body) {
  const auto tools_it = body.find("tools");
  const bool has_tools = tools_it != body.end() && !tools_it->is_null();
  const auto choice_it = body.find("tool_choice");
  const bool has_choice = choice_it != body.end() && !choice_it->is_null();
  if (const auto p = body.find("parallel_tool_calls");
      p != body.end() && !p->is_null() && !p->is_boolean())
    throw bad_param("parallel_tool_calls", "'parallel_tool_calls' must be a boolean");
  if (!has_tools) {
    if (has_choice && !(choice_it->is_string() && *choice_it == "none"))
      throw bad_param("tool_choice", "'tool_choice' needs 'tools'");
    return std::nullopt;
  }
  if (!tools_it->is_array() || tools_it->empty())
    throw bad_param("tools", "'tools' must be a non-empty array");
  const ojson& otools = *tools_it;
  ToolRequest t;
  t.tools = otools;
  for (size_t i = 0; i < otools.size(); ++i) {
    const std::string w = "tools[" + std::to_string(i) + "]";
    const ojson& tool = otools[i];
    if (!tool.is_object() || tool.value("type", "") != "function")
      throw bad_param(w + ".type", w + " must be {\"type\": \"function\", \"function\": {...}}");
    const auto fn = tool.find("function");
    if (fn == tool.end() || !fn->is_object())
      throw bad_param(w + ".function", w + ".function must be an object");
    const auto name = fn->find("name");
    if (name == fn->end() || !name->is_string() || !valid_name(name->get<std::string>()))
      throw bad_param(w + ".function.name",
                      w + ".function.name must be 1-64 characters of a-z, A-Z, 0-9, '_' and '-'");
    if (std::find(t.names.begin(), t.names.end(), name->get<std::string>()) != t.names.end())
      throw bad_param(w + ".function.name",
                      "two tools are named '" + name->get<std::string>() + "'");
    t.names.push_back(name->get<std::string>());
    const auto params = fn->find("parameters");
    if (params != fn->end() && !params->is_null() && !params->is_object())
      throw bad_param(w + ".function.parameters",
                      w + ".function.parameters must be a JSON Schema object");
    t.parameters.push_back(params != fn->end() && params->is_object()
                               ? *params
                               : ojson{{"type", "object"}, {"properties", ojson::object()}});
    const auto strict = fn->find("strict");
    if (strict != fn->end() && !strict->is_null() && !strict->is_boolean())
      throw bad_param(w + ".function.strict", w + ".function.strict must be a boolean");
    t.strict.push_back(strict != fn->end() && strict->is_boolean() && strict->get<bool>());
  }
  if (has_choice) {
    const ojson& c = *choice_it;
    if (c.is_string()) {
      const std::string s = c.get<std::string>();
      if (s == "none") {
        t.choice = ToolRequest::Choice::None;
      } else if (s == "auto") {
        t.choice = ToolRequest::Choice::Auto;
      } else if (s == "required") {
        t.choice = ToolRequest::Choice::Required;
      } else {
        throw bad_param("tool_choice",
                        "'tool_choice' must be 'none', 'auto', 'required' or "
                        "{\"type\": \"function\", \"function\": {\"name\": ...}}");
      }
    } else if (c.is_object() && c.value("type", "") == "function" && c.contains("function") &&
               c["function"].is_object() && c["function"].contains("name") &&
               c["function"]["name"].is_string()) {
      t.choice = ToolRequest::Choice::Named;
      t.named = c["function"]["name"].get<std::string>();
      if (std::find(t.names.begin(), t.names.end(), t.named) == t.names.end())
        throw bad_param("tool_choice",
                        "'tool_choice' names '" + t.named + "', which is not in 'tools'");
    } else {
      throw bad_param("tool_choice",
                      "'tool_choice' must be 'none', 'auto', 'required' or "
                      "{\"type\": \"function\", \"function\": {\"name\": ...}}");
    }
  }
  if (const auto p = body.find("parallel_tool_calls"); p != body.end() && p->is_boolean())
    t.parallel = p->get<bool>();
  return t;
}

std::string tool_calls_gbnf(const ToolRequest& t, ToolFormat f) {
  std::string rules, alts;
  for (size_t i = 0; i < t.names.size(); ++i) {
    if (t.choice == ToolRequest::Choice::Named && t.names[i] != t.named) continue;
    grammar::SchemaOptions opt;
    opt.strict = t.strict[i];
    grammar::SchemaRules r;
    try {
      r = grammar::json_schema_rules(t.parameters[i], opt, "t" + std::to_string(i) + "-");
    } catch (const grammar::SchemaError& e) {
      throw bad_param("tools[" + std::to_string(i) + "].function.parameters",
                      std::string("invalid or unsupported schema: ") + e.what());
    }
    rules += r.rules;
    const std::string call =
        grammar::gbnf_literal("{\"name\": \"" + t.names[i] + "\", \"" + args_key(f) + "\": ") +
        " " + r.root + " \"}\"";
    alts += (alts.empty() ? "" : " | ") + ("(" + call + ")");
  }
  std::string root;
  const bool many = t.parallel && f != ToolFormat::Llama3;
  switch (f) {
    case ToolFormat::Hermes:
      root = "root ::= tool-call" + std::string(many ? " (\"\\n\" tool-call)*" : "") +
             "\ntool-call ::= \"<tool_call>\\n\" call \"\\n</tool_call>\"\n";
      break;
    case ToolFormat::Llama3:
      root = "root ::= call\n";
      break;
    case ToolFormat::Mistral:
      root = "root ::= \"[\" call" + std::string(many ? " (\", \" call)*" : "") + " \"]\"\n";
      break;
  }
  return root + "call ::= " + alts + "\n" + grammar::json_base_gbnf() + rules;
}

std::string tool_call_trigger(ToolFormat f) {
  switch (f) {
    case ToolFormat::Hermes:
      return "<tool_call>";
    case ToolFormat::Llama3:
      return "{\"name\": \"";
    case ToolFormat::Mistral:
      return "[{\"name\": \"";
  }
  return "<tool_call>";
}

ToolStream::Delta ToolStream::push(std::string_view text) {
  buf_ += text;
  return scan(false);
}

ToolStream::Delta ToolStream::finish() {
  return scan(true);
}

// Content mode: everything but a tail that could start the trigger is content. Call mode: a
// header `{"name": "N", "arguments": ` gives a call's name; the arguments follow as JSON, read
// with a depth counter (strings and escapes respected) so each byte is reported once it is known
// to belong to them.
ToolStream::Delta ToolStream::scan(bool final) {
  Delta d;
  const std::string trigger = tool_call_trigger(f_);
  if (!in_calls_) {
    const size_t at = buf_.find(trigger);
    if (at == std::string::npos) {
      size_t keep = 0;
      if (!final)
        for (size_t k = std::min(trigger.size() - 1, buf_.size()); k > 0; --k)
          if (buf_.compare(buf_.size() - k, k, trigger, 0, k) == 0) {
            keep = k;
            break;
          }
      d.content = buf_.substr(0, buf_.size() - keep);
      buf_.erase(0, buf_.size() - keep);
      return d;
    }
    d.content = buf_.substr(0, at);
    buf_.erase(0, at);
    in_calls_ = true;
    done_ = 0;
  }
  const std::string head = "{\"name\": \"";
  const std::string mid = std::string("\", \"") + args_key(f_) + "\": ";
  for (;;) {
    if (!in_args_) {
      const size_t h = buf_.find(head, done_);
      if (h == std::string::npos) break;
      const size_t name_end = buf_.find('"', h + head.size());
      if (name_end == std::string::npos || buf_.size() < name_end + mid.size()) break;
      if (buf_.compare(name_end, mid.size(), mid) != 0) {
        done_ = h + 1;  // not a call header after all
        continue;
      }
      Delta::Call c;
      c.index = n_calls_++;
      c.name = buf_.substr(h + head.size(), name_end - h - head.size());
      d.calls.push_back(std::move(c));
      in_args_ = true;
      depth_ = 0;
      in_string_ = escape_ = false;
      done_ = name_end + mid.size();
    }
    std::string frag;
    size_t i = done_;
    bool closed = false;
    for (; i < buf_.size(); ++i) {
      const char ch = buf_[i];
      frag += ch;
      if (in_string_) {
        if (escape_) {
          escape_ = false;
        } else if (ch == '\\') {
          escape_ = true;
        } else if (ch == '"') {
          in_string_ = false;
        }
        continue;
      }
      if (ch == '"') {
        in_string_ = true;
      } else if (ch == '{' || ch == '[') {
        ++depth_;
      } else if (ch == '}' || ch == ']') {
        if (--depth_ == 0) {
          ++i;
          closed = true;
          break;
        }
      } else if (depth_ == 0 && (ch == ' ' || ch == '\n' || ch == '\t')) {
        frag.pop_back();  // whitespace before the value
      }
    }
    done_ = i;
    if (!frag.empty()) {
      if (!d.calls.empty() && d.calls.back().index == n_calls_ - 1) {
        d.calls.back().arguments += frag;
      } else {
        d.calls.push_back({n_calls_ - 1, std::nullopt, frag});
      }
    }
    if (!closed) break;
    in_args_ = false;
  }
  return d;
}

ParsedOutput parse_tool_calls(std::string_view text, ToolFormat f) {
  ToolStream s(f);
  ParsedOutput out;
  for (const ToolStream::Delta& d : {s.push(text), s.finish()}) {
    out.content += d.content;
    for (const auto& c : d.calls) {
      if (c.name) out.calls.push_back({*c.name, ""});
      out.calls.back().arguments += c.arguments;
    }
  }
  return out;
}

}  // namespace minima::server
