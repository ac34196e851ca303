#include "api/server/metrics.hpp"

#include <cstdio>

namespace minima::server {
namespace {
std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}
}  // namespace

void Histogram::observe(double s) {
  std::lock_guard lk(mu_);
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (s <= kBuckets[i]) ++counts_[i];
  ++count_;
  sum_ += s;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  std::lock_guard lk(mu_);
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  for (size_t i = 0; i < kBuckets.size(); ++i)
    out += name + "_bucket{le=\"" + num(kBuckets[i]) + "\"} " + std::to_string(counts_[i]) + "\n";
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + num(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

void Metrics::request(const std::string& route, int status) {
  std::lock_guard lk(mu_);
  ++requests_[{route, status}];
}

std::string Metrics::render(const EngineStats& s) const {
  std::string out;
  out +=
      "# HELP minima_requests_total HTTP requests by route and status.\n# TYPE "
      "minima_requests_total counter\n";
  {
    std::lock_guard lk(mu_);
    for (const auto& [k, v] : requests_)
      out += "minima_requests_total{route=\"" + k.first + "\",status=\"" +
             std::to_string(k.second) + "\"} " + std::to_string(v) + "\n";
  }
  auto counter = [&](const char* name, const char* help, int64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name +
           " " + std::to_string(v) + "\n";
  };
  auto gauge = [&](const char* name, const char* help, int64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name +
           " " + std::to_string(v) + "\n";
  };
  counter("minima_prompt_tokens_total", "Prompt tokens received.", tokens_in);
  counter("minima_generated_tokens_total", "Tokens generated.", tokens_out);
  counter("minima_prefix_cache_hit_tokens_total", "Prompt tokens served from the prefix cache.",
          cached_tokens);
  gauge("minima_queue_depth", "Requests waiting for admission.", s.queue_depth);
  gauge("minima_sequences_running", "Sequences being generated.", s.running);
  gauge("minima_kv_blocks_used", "KV cache blocks held by running sequences.", s.kv_blocks_used);
  gauge("minima_kv_blocks_free", "KV cache blocks free or holding evictable cached prefixes.",
        s.kv_blocks_total - s.kv_blocks_used);
  gauge("minima_kv_blocks_cached", "KV cache blocks indexed by the prefix cache.",
        s.kv_blocks_cached);
  counter("minima_engine_steps_total", "Batched forward steps.", s.steps);
  ttft.render(out, "minima_time_to_first_token_seconds",
              "Time from request arrival to the first token.");
  inter_token.render(out, "minima_inter_token_latency_seconds", "Time between streamed tokens.");
  e2e.render(out, "minima_request_duration_seconds",
             "Time from request arrival to the last token.");
  return out;
}

}  // namespace minima::server
