// Server metrics in Prometheus text format: request counts by route and status, latency
// histograms (time to first token, inter-token, end to end), token counters, and the engine's
// gauges (queue depth, running sequences, KV blocks used/free, prefix-cache hits). Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "runtime/engine/engine.hpp"

namespace minima::server {

class Histogram {
 public:
  static constexpr std::array<double, 14> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                      1,     2.5,  5,     10,   30,  60,   120};
  void observe(double seconds);
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  mutable std::mutex mu_;
  std::array<uint64_t, kBuckets.size()> counts_{};
  uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  void request(const std::string& route, int status);
  Histogram ttft, inter_token, e2e;
  std::atomic<int64_t> tokens_in{0}, tokens_out{0}, cached_tokens{0};
  std::string render(const EngineStats& s) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
};

}  // namespace minima::server
