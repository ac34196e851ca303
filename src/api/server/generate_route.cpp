// POST /v1/chat/completions and /v1/completions: validate, build the prompt, submit to the
// engine, then answer with one JSON body or a stream of server-sent events in OpenAI's shapes.
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "api/server/http_util.hpp"
#include "api/server/openai_request.hpp"
#include "api/server/server.hpp"
#include "api/server/tools.hpp"
#include "runtime/grammar/grammar.hpp"

namespace minima::server {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

std::string random_id(const char* prefix) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::string s = prefix;
  for (int i = 0; i < 24; ++i) s += kChars[rng() % (sizeof kChars - 1)];
  return s;
}

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(c);
  return b;
}

json chat_logprobs(const std::vector<TokenLogprob>& lps) {
  json content = json::array();
  for (const auto& lp : lps) {
    json top = json::array();
    for (const auto& t : lp.top)
      top.push_back({{"token", t.text}, {"logprob", t.logprob}, {"bytes", bytes_of(t.text)}});
    content.push_back({{"token", lp.text},
                       {"logprob", lp.logprob},
                       {"bytes", bytes_of(lp.text)},
                       {"top_logprobs", top}});
  }
  return {{"content", content}, {"refusal", nullptr}};
}

// Legacy completions logprobs: parallel arrays.
struct CompletionLogprobs {
  json tokens = json::array(), token_logprobs = json::array(), top = json::array(),
       offsets = json::array();
  size_t offset = 0;
  void add(const std::vector<TokenLogprob>& lps) {
    for (const auto& lp : lps) {
      tokens.push_back(lp.text);
      token_logprobs.push_back(lp.logprob);
      json t = json::object();
      for (const auto& x : lp.top) t[x.text] = x.logprob;
      top.push_back(t);
      offsets.push_back(offset);
      offset += lp.text.size();
    }
  }
  json to_json() const {
    return {{"tokens", tokens},
            {"token_logprobs", token_logprobs},
            {"top_logprobs", top},
            {"text_offset", offsets}};
  }
};

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}},
          {"completion_tokens_details", {{"reasoning_tokens", 0}}}};
}

// Messages as the chat template sees them: an assistant message's tool-call arguments (a JSON
// string in OpenAI's API) become objects, which is what templates print back with tojson.
nlohmann::ordered_json template_messages(const nlohmann::ordered_json& messages) {
  nlohmann::ordered_json out = messages;
  for (auto& m : out) {
    if (!m.contains("tool_calls") || !m["tool_calls"].is_array()) continue;
    for (auto& c : m["tool_calls"]) {
      if (!c.is_object() || !c.contains("function") || !c["function"].is_object()) continue;
      auto& f = c["function"];
      if (f.contains("arguments") && f["arguments"].is_string()) {
        auto v = nlohmann::ordered_json::parse(f["arguments"].get<std::string>(), nullptr, false);
        if (!v.is_discarded()) f["arguments"] = std::move(v);
      }
    }
  }
  return out;
}

json tool_calls_json(const std::vector<ToolCall>& calls) {
  json out = json::array();
  for (const auto& c : calls)
    out.push_back({{"id", random_id("call_")},
                   {"type", "function"},
                   {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
  return out;
}

// One HTTP request = one engine request per prompt (completions may carry several prompts).
struct Job {
  bool chat = false;
  ParsedRequest p;
  std::string id, model;
  int64_t created = 0;
  std::vector<std::shared_ptr<GenRequest>> reqs;
  std::vector<size_t> echo_len;  // completions with echo: prompt text per prompt
  std::vector<std::string> echo_text;
  Clock::time_point t0;
  Clock::time_point last_token;
  bool first_token_seen = false;
  std::vector<uint8_t> finished;  // per engine request: Done/Error seen
  Usage usage;
  std::optional<ApiError> error;
  // Tool calling (chat with active tools): the syntax, auto mode's trigger, and per choice the
  // streaming reader and the ids given to its calls.
  std::optional<ToolFormat> tool_format;
  std::string trigger;
  std::vector<std::unique_ptr<ToolStream>> tool_streams;
  std::vector<std::vector<std::string>> call_ids;

  int index(size_t req, int choice) const { return static_cast<int>(req) * p.n + choice; }
  void cancel() {
    for (auto& r : reqs) r->cancelled = true;
  }
  bool all_done() const {
    for (uint8_t f : finished)
      if (!f) return false;
    return true;
  }
  // Pops the next event of any unfinished request (waits up to `wait` when none is ready).
  bool next(size_t& which, Event& ev, std::chrono::milliseconds wait) {
    for (size_t i = 0; i < reqs.size(); ++i)
      if (!finished[i] && reqs[i]->events.pop(ev, std::chrono::milliseconds(0)))
        return which = i, true;
    for (size_t i = 0; i < reqs.size(); ++i)
      if (!finished[i]) {
        if (reqs[i]->events.pop(ev, wait)) return which = i, true;
        return false;
      }
    return false;
  }
};

}  // namespace

void Server::handle_generate(const httplib::Request& req, httplib::Response& res, bool chat,
                             const Backend& b) {
  const Tokenizer& tok = *b.tok;
  Engine& engine = *b.engine;
  const auto t0 = Clock::now();
  const std::string route = chat ? "/v1/chat/completions" : "/v1/completions";
  auto log_line = [route](int status, const Usage& u, Clock::time_point start) {
    std::fprintf(stderr, "POST %s %d prompt=%lld completion=%lld cached=%lld %.1fms\n",
                 route.c_str(), status, static_cast<long long>(u.prompt_tokens),
                 static_cast<long long>(u.completion_tokens),
                 static_cast<long long>(u.cached_tokens),
                 std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  };
  std::string tenant;
  if (!authorized(req, res, tenant)) {
    metrics_.request(route, res.status);
    log_line(res.status, {}, t0);
    return;
  }
  auto job = std::make_shared<Job>();
  job->chat = chat;
  job->t0 = t0;
  try {
    job->p = parse_request(req.body, chat, grammars_);
    ParsedRequest& p = job->p;
    if (p.model != opt_.model_id)
      throw ApiError(404, "invalid_request_error", "The model '" + p.model + "' does not exist",
                     "model", "model_not_found");
    std::vector<std::vector<int32_t>> prompts;
    if (chat) {
      nlohmann::ordered_json ctx;
      ctx["messages"] = template_messages(p.messages);
      if (p.tools) ctx["tools"] = p.tools->tools;
      ctx["add_generation_prompt"] = true;
      ctx["bos_token"] = tok.bos() >= 0 ? tok.token_text(tok.bos()) : "";
      ctx["eos_token"] = tok.eos() >= 0 ? tok.token_text(tok.eos()) : "";
      std::string text;
      try {
        text = b.tmpl.render(ctx);
      } catch (const std::exception& e) {
        throw bad_param(
            "messages",
            std::string("the model's chat template rejected the messages: ") + e.what());
      }
      if (opt_.log_content) std::fprintf(stderr, "prompt: %s\n", text.c_str());
      prompts.push_back(tok.encode(text, false, true));
    } else {
      for (const auto& s : p.prompts) {
        prompts.push_back(tok.encode(s, true, false));
        job->echo_text.push_back(s);
      }
      for (const auto& ids : p.prompt_ids) {
        for (int32_t id : ids)
          if (id < 0 || id >= tok.n_vocab())
            throw bad_param("prompt",
                            "token id " + std::to_string(id) + " is outside the vocabulary");
        prompts.push_back(ids);
        job->echo_text.push_back(tok.decode(ids, false));
      }
    }
    if (p.tools && p.tools->active()) {
      // Calls are constrained: from the start (required / named) or from the syntax's opening
      // on (auto: a lazy grammar).
      job->tool_format = b.tool_format;
      p.grammar = grammars_.get(tool_calls_gbnf(*p.tools, b.tool_format));
      if (p.tools->choice == ToolRequest::Choice::Auto)
        job->trigger = tool_call_trigger(b.tool_format);
    }
    const int64_t n_ctx = engine.options().n_ctx;
    int64_t longest = 0;
    for (const auto& pr : prompts) {
      if (pr.empty())
        throw bad_param(chat ? "messages" : "prompt", "the prompt is empty after tokenization");
      longest = std::max<int64_t>(longest, static_cast<int64_t>(pr.size()));
    }
    if (longest >= n_ctx)
      throw bad_param(chat ? "messages" : "prompt",
                      "This model's maximum context length is " + std::to_string(n_ctx) +
                          " tokens. However, your " +
                          (chat ? "messages resulted" : "prompt resulted") + " in " +
                          std::to_string(longest) + " tokens.",
                      "context_length_exceeded");
    const int64_t max_tokens = p.max_tokens.value_or(n_ctx - longest);
    if (longest + max_tokens > n_ctx)
      throw bad_param(p.max_tokens_param,
                      "This model's maximum context length is " + std::to_string(n_ctx) +
                          " tokens. However, you "
                          "requested " +
                          std::to_string(longest + max_tokens) + " tokens (" +
                          std::to_string(longest) + " in the prompt, " +
                          std::to_string(max_tokens) + " for the completion).",
                      "context_length_exceeded");
    for (const auto& entry : p.sampling.logit_bias)
      if (const int32_t id = entry.first; id < 0 || id >= tok.n_vocab())
        throw bad_param("logit_bias",
                        "logit_bias token id " + std::to_string(id) + " is outside the vocabulary");

    job->id = random_id(chat ? "chatcmpl-" : "cmpl-");
    job->model = opt_.model_id;
    job->created = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    for (auto& pr : prompts) {
      auto g = std::make_shared<GenRequest>();
      g->prompt = std::move(pr);
      g->sampling = p.sampling;
      g->n = p.n;
      g->max_tokens = max_tokens;
      g->stop = p.stop;
      g->ignore_eos = p.ignore_eos;
      g->grammar = p.grammar;
      g->grammar_trigger = job->trigger;
      g->top_logprobs = p.logprobs ? p.top_logprobs : -1;
      g->tenant = tenant;
      g->submitted = t0;
      if (!engine.submit(g)) {
        job->cancel();
        throw ApiError(429, "rate_limit_exceeded",
                       "the server is busy: too many queued requests; retry shortly", std::nullopt,
                       "rate_limit_exceeded");
      }
      job->reqs.push_back(std::move(g));
    }
    job->finished.assign(job->reqs.size(), 0);
  } catch (const ApiError& e) {
    send_error(res, e);
    metrics_.request(route, e.status);
    log_line(e.status, {}, t0);
    return;
  }

  const int n_choices = static_cast<int>(job->reqs.size()) * job->p.n;
  auto on_event_timing = [this, job](const Event& ev) {
    if (ev.kind != Event::Kind::Delta) return;
    const auto now = Clock::now();
    if (!job->first_token_seen) {
      metrics_.ttft.observe(std::chrono::duration<double>(now - job->t0).count());
      job->first_token_seen = true;
    } else {
      metrics_.inter_token.observe(std::chrono::duration<double>(now - job->last_token).count());
    }
    job->last_token = now;
  };
  auto on_finish = [this, job, route, log_line](int status) {
    metrics_.request(route, status);
    metrics_.tokens_in += job->usage.prompt_tokens;
    metrics_.tokens_out += job->usage.completion_tokens;
    metrics_.cached_tokens += job->usage.cached_tokens;
    if (status == 200)
      metrics_.e2e.observe(std::chrono::duration<double>(Clock::now() - job->t0).count());
    log_line(status, job->usage, job->t0);
  };

  if (!job->p.stream) {
    std::vector<std::string> text(static_cast<size_t>(n_choices));
    std::vector<std::string> finish(static_cast<size_t>(n_choices), "stop");
    std::vector<std::vector<TokenLogprob>> lps(static_cast<size_t>(n_choices));
    while (!job->all_done()) {
      size_t w = 0;
      Event ev;
      if (!job->next(w, ev, std::chrono::milliseconds(200))) continue;
      on_event_timing(ev);
      const auto idx = static_cast<size_t>(job->index(w, ev.choice));
      switch (ev.kind) {
        case Event::Kind::Delta:
          text[idx] += ev.text;
          for (auto& lp : ev.logprobs) lps[idx].push_back(std::move(lp));
          break;
        case Event::Kind::ChoiceDone:
          finish[idx] = ev.finish_reason;
          break;
        case Event::Kind::Done:
          job->usage += ev.usage;
          job->finished[w] = 1;
          break;
        case Event::Kind::Error:
          job->error =
              ApiError(ev.http_status,
                       ev.http_status == 400 ? "invalid_request_error" : "server_error", ev.error);
          job->finished[w] = 1;
          break;
      }
    }
    if (job->error) {
      job->cancel();
      send_error(res, *job->error);
      on_finish(job->error->status);
      return;
    }
    json choices = json::array();
    for (int i = 0; i < n_choices; ++i) {
      const auto u = static_cast<size_t>(i);
      if (chat) {
        json message = {{"role", "assistant"}, {"content", text[u]}, {"refusal", nullptr}};
        std::string reason = finish[u];
        if (job->tool_format) {
          const ParsedOutput po = parse_tool_calls(text[u], *job->tool_format);
          if (!po.calls.empty()) {
            message["content"] = po.content.empty() ? json(nullptr) : json(po.content);
            message["tool_calls"] = tool_calls_json(po.calls);
            if (reason == "stop") reason = "tool_calls";
          }
        }
        choices.push_back({{"index", i},
                           {"message", std::move(message)},
                           {"logprobs", job->p.logprobs ? chat_logprobs(lps[u]) : json(nullptr)},
                           {"finish_reason", reason}});
      } else {
        CompletionLogprobs cl;
        cl.add(lps[u]);
        const std::string prefix =
            job->p.echo ? job->echo_text[u / static_cast<size_t>(job->p.n)] : "";
        choices.push_back({{"index", i},
                           {"text", prefix + text[u]},
                           {"logprobs", job->p.logprobs ? cl.to_json() : json(nullptr)},
                           {"finish_reason", finish[u]}});
      }
    }
    send_json(res, 200,
              {{"id", job->id},
               {"object", chat ? "chat.completion" : "text_completion"},
               {"created", job->created},
               {"model", job->model},
               {"system_fingerprint", "minima-0.1"},
               {"choices", choices},
               {"usage", usage_json(job->usage)}});
    if (opt_.log_content)
      for (const auto& t : text) std::fprintf(stderr, "output: %s\n", t.c_str());
    on_finish(200);
    return;
  }

  // Streaming: the provider runs on this connection's thread, pulling engine events and writing
  // SSE chunks; a failed write (client gone) cancels the engine requests at once.
  res.set_header("Cache-Control", "no-cache");
  auto chunk = [job, chat](json choices) {
    json c = {{"id", job->id},
              {"object", chat ? "chat.completion.chunk" : "text_completion"},
              {"created", job->created},
              {"model", job->model},
              {"system_fingerprint", "minima-0.1"},
              {"choices", std::move(choices)}};
    if (job->p.include_usage) c["usage"] = nullptr;
    return "data: " + dump_json(c) + "\n\n";
  };
  if (job->tool_format)
    for (int i = 0; i < n_choices; ++i) {
      job->tool_streams.push_back(std::make_unique<ToolStream>(*job->tool_format));
      job->call_ids.emplace_back();
    }
  auto started = std::make_shared<bool>(false);
  auto last_write = std::make_shared<Clock::time_point>(Clock::now());
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, job, chat, n_choices, chunk, started, last_write, on_event_timing, on_finish](
          size_t, httplib::DataSink& sink) {
        auto write = [&](const std::string& s) {
          *last_write = Clock::now();
          if (!sink.write(s.data(), s.size())) {
            job->cancel();
            return false;
          }
          return true;
        };
        if (!*started) {
          *started = true;
          if (chat) {
            for (int i = 0; i < n_choices; ++i)
              if (!write(chunk(json::array(
                      {{{"index", i},
                        {"delta", {{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}},
                        {"logprobs", nullptr},
                        {"finish_reason", nullptr}}}))))
                return false;
          }
        }
        // Content and tool-call deltas of a tool-calling choice, in OpenAI's chunk shapes.
        auto write_tool_delta = [&](int idx, const ToolStream::Delta& d, const Event& src,
                                    auto&& writer) {
          if (!d.content.empty() || !src.logprobs.empty()) {
            json c = {{"index", idx},
                      {"delta", {{"content", d.content}}},
                      {"logprobs", job->p.logprobs ? chat_logprobs(src.logprobs) : json(nullptr)},
                      {"finish_reason", nullptr}};
            if (!writer(chunk(json::array({c})))) return false;
          }
          for (const auto& call : d.calls) {
            auto& ids = job->call_ids[size_t(idx)];
            json tc = {{"index", call.index}, {"function", {{"arguments", call.arguments}}}};
            if (call.name) {
              ids.push_back(random_id("call_"));
              tc["id"] = ids.back();
              tc["type"] = "function";
              tc["function"]["name"] = *call.name;
            }
            json c = {{"index", idx},
                      {"delta", {{"tool_calls", json::array({tc})}}},
                      {"logprobs", nullptr},
                      {"finish_reason", nullptr}};
            if (!writer(chunk(json::array({c})))) return false;
          }
          return true;
        };
        size_t w = 0;
        Event ev;
        if (!job->next(w, ev, std::chrono::milliseconds(250))) {
          // Nothing new: a comment line every second keeps proxies open and reveals a gone client.
          if (Clock::now() - *last_write > std::chrono::seconds(1))
            return write(": keep-alive\n\n");
          return true;
        }
        on_event_timing(ev);
        const int idx = job->index(w, ev.choice);
        switch (ev.kind) {
          case Event::Kind::Delta: {
            json c;
            if (chat && job->tool_format) {
              const auto d = job->tool_streams[size_t(idx)]->push(ev.text);
              return write_tool_delta(idx, d, ev, write);
            }
            if (chat) {
              c = {{"index", idx},
                   {"delta", {{"content", ev.text}}},
                   {"logprobs", job->p.logprobs ? chat_logprobs(ev.logprobs) : json(nullptr)},
                   {"finish_reason", nullptr}};
            } else {
              CompletionLogprobs cl;
              cl.add(ev.logprobs);
              c = {{"index", idx},
                   {"text", ev.text},
                   {"logprobs", job->p.logprobs ? cl.to_json() : json(nullptr)},
                   {"finish_reason", nullptr}};
            }
            return write(chunk(json::array({c})));
          }
          case Event::Kind::ChoiceDone: {
            std::string reason = ev.finish_reason;
            if (chat && job->tool_format) {
              ToolStream& ts = *job->tool_streams[size_t(idx)];
              if (!write_tool_delta(idx, ts.finish(), Event{}, write)) return false;
              if (ts.saw_call() && reason == "stop") reason = "tool_calls";
            }
            json c = chat ? json{{"index", idx},
                                 {"delta", json::object()},
                                 {"logprobs", nullptr},
                                 {"finish_reason", reason}}
                          : json{{"index", idx},
                                 {"text", ""},
                                 {"logprobs", nullptr},
                                 {"finish_reason", ev.finish_reason}};
            return write(chunk(json::array({c})));
          }
          case Event::Kind::Done:
            job->usage += ev.usage;
            job->finished[w] = 1;
            break;
          case Event::Kind::Error: {
            job->finished[w] = 1;
            job->cancel();
            const ApiError e(ev.http_status, "server_error", ev.error);
            write("data: " + dump_json(e.to_json()) + "\n\n");
            sink.done();
            on_finish(ev.http_status);
            return true;
          }
        }
        if (job->all_done()) {
          if (job->p.include_usage) {
            json u = {{"id", job->id},
                      {"object", chat ? "chat.completion.chunk" : "text_completion"},
                      {"created", job->created},
                      {"model", job->model},
                      {"system_fingerprint", "minima-0.1"},
                      {"choices", json::array()},
                      {"usage", usage_json(job->usage)}};
            if (!write("data: " + dump_json(u) + "\n\n")) return false;
          }
          if (!write("data: [DONE]\n\n")) return false;
          sink.done();
          on_finish(200);
        }
        return true;
      },
      [job, on_finish](bool success) {
        if (!success || !job->all_done()) {  // the client went away before the end
          job->cancel();
          on_finish(499);
        }
      });
}

}  // namespace minima::server
