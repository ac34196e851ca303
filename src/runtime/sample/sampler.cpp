#include "runtime/sample/sampler.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace minima {
namespace {

inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

// splitmix64 expands one seed into the four xoshiro words (never all zero).
inline uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

void Rng::reseed(uint64_t seed) {
  for (auto& w : s_) w = splitmix(seed);
}

uint64_t Rng::next() {
  const uint64_t r = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return r;
}

double Rng::uniform() {
  return double(next() >> 11) * 0x1.0p-53;
}

Sampler::Sampler(int64_t n_vocab, SamplingParams params)
    : n_vocab_(n_vocab), p_(std::move(params)), rng_(p_.seed) {
  if (n_vocab <= 0) fail("sampler: vocabulary size must be positive");
  for (const auto& [id, bias] : p_.logit_bias) {
    if (id < 0 || id >= n_vocab)
      fail("logit_bias: token id ", id, " is outside the vocabulary [0, ", n_vocab, ")");
    if (!std::isfinite(bias) && bias != -INFINITY)
      fail("logit_bias: bias for token ", id, " must be a number");
  }
  if (std::isnan(p_.temperature)) fail("temperature must be a number");
  if (p_.repeat_penalty <= 0 || !std::isfinite(p_.repeat_penalty))
    fail("repeat penalty must be > 0, got ", p_.repeat_penalty);
  if (std::isnan(p_.top_p) || std::isnan(p_.min_p)) fail("top_p and min_p must be numbers");
  if (p_.penalty_last_n < -1) fail("penalty window must be >= -1, got ", p_.penalty_last_n);
  const auto n = static_cast<size_t>(n_vocab);
  cand_.resize(n);
  probs_.resize(n);
  counts_.assign(n, 0);
  in_touched_.assign(n, 0);
  touched_.reserve(n);
  if (p_.penalty_last_n > 0) window_.resize(static_cast<size_t>(p_.penalty_last_n));
}

void Sampler::reset() {
  for (int32_t id : touched_) {
    counts_[static_cast<size_t>(id)] = 0;
    in_touched_[static_cast<size_t>(id)] = 0;
  }
  touched_.clear();
  window_pos_ = window_len_ = 0;
  rng_.reseed(p_.seed);
}

void Sampler::accept(int32_t token) {
  if (token < 0 || token >= n_vocab_) return;
  if (p_.penalty_last_n == 0) return;
  if (p_.penalty_last_n > 0) {
    if (window_len_ == window_.size()) {  // evict the oldest
      const int32_t old = window_[window_pos_];
      --counts_[static_cast<size_t>(old)];
    } else {
      ++window_len_;
    }
    window_[window_pos_] = token;
    window_pos_ = (window_pos_ + 1) % window_.size();
  }
  const auto t = static_cast<size_t>(token);
  ++counts_[t];
  if (!in_touched_[t]) {
    // touched_ lists each id at most once (so it never outgrows its n_vocab reservation); ids whose
    // count fell back to zero are pruned when it gets long compared with the window.
    if (p_.penalty_last_n > 0 && touched_.size() >= 4 * window_.size()) {
      std::erase_if(touched_, [&](int32_t id) {
        const bool gone = counts_[static_cast<size_t>(id)] == 0;
        if (gone) in_touched_[static_cast<size_t>(id)] = 0;
        return gone;
      });
    }
    touched_.push_back(token);
    in_touched_[t] = 1;
  }
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const uint64_t> allowed) {
  if (static_cast<int64_t>(logits.size()) != n_vocab_)
    fail("sampler: got ", logits.size(), " logits for a vocabulary of ", n_vocab_);
  if (!allowed.empty() && allowed.size() * 64 < cand_.size())
    fail("sampler: a mask of ", allowed.size(), " words for a vocabulary of ", n_vocab_);
  size_t n = cand_.size();
  for (size_t i = 0; i < n; ++i) cand_[i] = {static_cast<int32_t>(i), logits[i]};
  for (const auto& [id, bias] : p_.logit_bias) cand_[static_cast<size_t>(id)].logit += bias;

  const bool penalize =
      p_.repeat_penalty != 1.0f || p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f;
  if (penalize) {
    for (int32_t id : touched_) {
      const int32_t c = counts_[static_cast<size_t>(id)];
      if (c <= 0) continue;
      float& l = cand_[static_cast<size_t>(id)].logit;
      l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
      l -= float(c) * p_.frequency_penalty + p_.presence_penalty;
    }
  }

  if (!allowed.empty()) {
    // Only the allowed tokens stay candidates (in id order, so ties still go to the lowest id).
    size_t m = 0;
    for (size_t i = 0; i < n; ++i)
      if ((allowed[i >> 6] >> (i & 63)) & 1) cand_[m++] = cand_[i];
    if (m == 0) fail("sampler: the constraint allows no token");
    n = m;
  }
  const auto end = cand_.begin() + static_cast<std::ptrdiff_t>(n);

  const auto better = [](const Cand& a, const Cand& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  if (p_.temperature <= 0.0f) return std::min_element(cand_.begin(), end, better)->id;

  // Keep the k best, sorted best first.
  size_t k = n;
  if (p_.top_k > 0 && static_cast<size_t>(p_.top_k) < n) {
    k = static_cast<size_t>(p_.top_k);
    std::partial_sort(cand_.begin(), cand_.begin() + static_cast<std::ptrdiff_t>(k), end, better);
  } else {
    std::sort(cand_.begin(), end, better);
  }

  // top-p and min-p act on the distribution at temperature 1.
  const float mx = cand_[0].logit;
  double sum = 0.0;
  for (size_t i = 0; i < k; ++i) sum += (probs_[i] = std::exp(cand_[i].logit - mx));
  if (p_.top_p < 1.0f) {
    double cum = 0.0;
    size_t keep = k;
    for (size_t i = 0; i < k; ++i) {
      cum += probs_[i] / sum;
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
    k = keep;
  }
  if (p_.min_p > 0.0f) {
    size_t keep = 1;  // probs_[0] is the max (== 1 before normalization)
    while (keep < k && probs_[keep] >= p_.min_p) ++keep;
    k = keep;
  }

  const float inv_t = 1.0f / p_.temperature;
  double total = 0.0;
  for (size_t i = 0; i < k; ++i) total += (probs_[i] = std::exp((cand_[i].logit - mx) * inv_t));
  const double r = rng_.uniform() * total;
  double cum = 0.0;
  for (size_t i = 0; i < k; ++i) {
    cum += probs_[i];
    if (r < cum) return cand_[i].id;
  }
  return cand_[k - 1].id;
}

}  // namespace minima
