// What an HTTP thread hands the engine, and what it gets back. A GenRequest is shared between the
// submitting thread and the engine thread: the engine writes events into its channel, the HTTP
// thread reads them and may set `cancelled` (client gone); nothing else is touched by both.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/grammar/grammar.hpp"
#include "runtime/sample/sampler.hpp"

namespace minima {

struct TopLogprob {
  int32_t token;
  std::string text;  // the token's bytes (may be a partial UTF-8 character)
  float logprob;
};

struct TokenLogprob {
  int32_t token;
  std::string text;
  float logprob;
  std::vector<TopLogprob> top;  // most likely alternatives, best first
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;  // prompt tokens served from the prefix cache

  Usage& operator+=(const Usage& o) {
    prompt_tokens += o.prompt_tokens;
    completion_tokens += o.completion_tokens;
    cached_tokens += o.cached_tokens;
    return *this;
  }
};

struct Event {
  enum class Kind { Delta, ChoiceDone, Done, Error };
  Kind kind = Kind::Delta;
  int choice = 0;
  std::string text;                    // Delta: new text (complete UTF-8)
  std::vector<TokenLogprob> logprobs;  // Delta: the tokens this delta covers (when requested)
  std::string finish_reason;           // ChoiceDone: "stop" | "length"
  Usage usage;                         // Done: totals over all choices
  std::string error;                   // Error: message
  int http_status = 500;               // Error
};

// Single-producer (engine) / single-consumer (HTTP thread) event queue.
class Channel {
 public:
  void push(Event e) {
    {
      std::lock_guard lk(mu_);
      q_.push_back(std::move(e));
    }
    cv_.notify_one();
  }
  // Waits up to `timeout` for an event; false on timeout.
  bool pop(Event& out, std::chrono::milliseconds timeout) {
    std::unique_lock lk(mu_);
    if (!cv_.wait_for(lk, timeout, [&] { return !q_.empty(); })) return false;
    out = std::move(q_.front());
    q_.pop_front();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> q_;
};

struct GenRequest {
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  int n = 1;                // choices; choice i samples with seed + i
  int64_t max_tokens = 16;  // new tokens per choice
  std::vector<std::string> stop;
  bool ignore_eos = false;
  int top_logprobs = -1;  // -1: no logprobs; 0..20: logprobs with that many alternatives
  std::string tenant;     // prefix-cache namespace (the API key)
  // Constrained decoding (structured outputs): every choice's text is a sentence of this
  // grammar (or a prefix of one when max_tokens cuts it, finish "length").
  std::shared_ptr<const grammar::Grammar> grammar;
  // Lazy grammar (tool_choice auto): generation is free until the output contains this text,
  // from which on the grammar holds (matched from the trigger's first byte). Empty: from the start.
  std::string grammar_trigger;

  std::atomic<bool> cancelled{false};
  Channel events;
  std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
};

}  // namespace minima
