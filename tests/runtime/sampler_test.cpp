// Sampler semantics. Statistical checks use enough draws that a correct sampler fails with
// probability < 1e-6 (bounds at >= 5 standard deviations of the binomial count).
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

#include "core/error.hpp"
#include "runtime/sample/sampler.hpp"

namespace minima {
namespace {

SamplingParams plain(float temp) {
  SamplingParams p;
  p.temperature = temp;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

TEST(Sampler, GreedyTakesArgmaxTiesToLowestId) {
  Sampler s(5, plain(0));
  EXPECT_EQ(s.sample(std::vector<float>{1, 3, 3, 2, -1}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{-5, -5, -5, -5, -5}), 0);
}

TEST(Sampler, SameSeedSameTokensAndSeedsDiffer) {
  std::vector<float> logits(100);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(float(i)) * 2;
  auto run = [&](uint64_t seed) {
    SamplingParams p = plain(1.0f);
    p.seed = seed;
    Sampler s(100, p);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.sample(logits));
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
  // reset() replays the same stream.
  SamplingParams p = plain(1.0f);
  Sampler s(100, p);
  const int32_t a = s.sample(logits), b = s.sample(logits);
  s.reset();
  EXPECT_EQ(s.sample(logits), a);
  EXPECT_EQ(s.sample(logits), b);
}

TEST(Sampler, TemperatureOneFollowsSoftmax) {
  // p(1) = 3/4. n = 40000: sd of the count = sqrt(n p q) ~ 86.6; allow 6 sd.
  Sampler s(2, plain(1.0f));
  const std::vector<float> logits = {0.0f, std::log(3.0f)};
  int ones = 0;
  const int n = 40000;
  for (int i = 0; i < n; ++i) ones += s.sample(logits);
  EXPECT_NEAR(ones, 0.75 * n, 6 * std::sqrt(n * 0.75 * 0.25));
}

TEST(Sampler, LowTemperatureSharpens) {
  // T = 0.5 squares the odds: p(1) = 9/10.
  Sampler s(2, plain(0.5f));
  const std::vector<float> logits = {0.0f, std::log(3.0f)};
  int ones = 0;
  const int n = 40000;
  for (int i = 0; i < n; ++i) ones += s.sample(logits);
  EXPECT_NEAR(ones, 0.9 * n, 6 * std::sqrt(n * 0.9 * 0.1));
}

TEST(Sampler, TopKTopPMinPRestrictTheCandidates) {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 3.0f, 4.0f};  // probs ~ .01 .03 .09 .23 .64
  auto seen = [&](SamplingParams p) {
    Sampler s(5, p);
    std::set<int32_t> ids;
    for (int i = 0; i < 3000; ++i) ids.insert(s.sample(logits));
    return ids;
  };
  SamplingParams k = plain(1.0f);
  k.top_k = 2;
  EXPECT_EQ(seen(k), (std::set<int32_t>{3, 4}));
  SamplingParams tp = plain(1.0f);
  tp.top_p = 0.8f;  // .64 < .8 <= .64 + .23
  EXPECT_EQ(seen(tp), (std::set<int32_t>{3, 4}));
  SamplingParams mp = plain(1.0f);
  mp.min_p = 0.1f;  // keeps p >= 0.064: ids 2, 3, 4
  EXPECT_EQ(seen(mp), (std::set<int32_t>{2, 3, 4}));
  SamplingParams one = plain(5.0f);
  one.top_k = 1;
  EXPECT_EQ(seen(one), (std::set<int32_t>{4}));
}

TEST(Sampler, LogitBiasBansAndForces) {
  SamplingParams p = plain(1.0f);
  p.logit_bias = {{4, -INFINITY}, {0, 100.0f}};
  Sampler s(5, p);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(s.sample(std::vector<float>{0, 1, 2, 3, 4}), 0);
  SamplingParams bad = plain(1.0f);
  bad.logit_bias = {{5, 1.0f}};
  EXPECT_THROW(Sampler(5, bad), Error);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplingParams p = plain(0);
  p.repeat_penalty = 2.0f;
  Sampler s(3, p);
  s.accept(0);
  EXPECT_EQ(s.sample(std::vector<float>{3.0f, 2.0f, -1.0f}), 1);  // 3/2 = 1.5 < 2
  Sampler n(2, p);
  n.accept(0);
  EXPECT_EQ(n.sample(std::vector<float>{-1.0f, -1.5f}), 1);  // -1*2 = -2 < -1.5
}

TEST(Sampler, PresenceAndFrequencyPenaltiesAndTheirWindow) {
  SamplingParams p = plain(0);
  p.frequency_penalty = 1.0f;
  p.presence_penalty = 0.5f;
  p.penalty_last_n = 3;
  Sampler s(3, p);
  s.accept(0);
  s.accept(0);
  // logit0 = 5 - 2*1 - 0.5 = 2.5 < 3
  EXPECT_EQ(s.sample(std::vector<float>{5.0f, 3.0f, 0.0f}), 1);
  // Three other tokens push both 0s out of the window: no penalty any more.
  s.accept(2);
  s.accept(2);
  s.accept(2);
  EXPECT_EQ(s.sample(std::vector<float>{5.0f, 3.0f, 0.0f}), 0);
}

TEST(Sampler, RejectsBadParameters) {
  SamplingParams p;
  p.repeat_penalty = 0;
  EXPECT_THROW(Sampler(10, p), Error);
  p = SamplingParams{};
  p.penalty_last_n = -2;
  EXPECT_THROW(Sampler(10, p), Error);
  Sampler s(10, SamplingParams{});
  EXPECT_THROW(s.sample(std::vector<float>(9)), Error);
}

}  // namespace
}  // namespace minima
