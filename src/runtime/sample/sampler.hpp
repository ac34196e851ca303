// Token sampling: a pure function of (logits, params, state). State = the RNG and the window of
// recent tokens for penalties. Buffers are sized at construction (n_vocab), so sample() does not
// allocate and can run inside the token loop.
//
// Order of operations (the usual one, so settings mean what users expect from llama.cpp / OpenAI):
//   logit_bias → repetition / presence / frequency penalties over the last `penalty_last_n`
//   tokens → greedy if temperature <= 0 → top-k → top-p → min-p → temperature → draw.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace minima {

struct SamplingParams {
  float temperature = 0.8f;        // <= 0: greedy (argmax, ties to the lowest id)
  int32_t top_k = 40;              // <= 0: off
  float top_p = 0.95f;             // >= 1: off
  float min_p = 0.05f;             // <= 0: off
  float repeat_penalty = 1.0f;     // 1: off (llama.cpp semantics: logit / p if > 0 else logit * p)
  float presence_penalty = 0.0f;   // OpenAI semantics: -= presence * (count > 0)
  float frequency_penalty = 0.0f;  // -= frequency * count
  int32_t penalty_last_n = 64;     // window for all three penalties; -1: whole history
  uint64_t seed = 0xC0FFEE;
  std::vector<std::pair<int32_t, float>> logit_bias;  // added to the logit of the token id
};

// Small, fast, fully specified RNG (xoshiro256**), so the same seed gives the same tokens on every
// platform and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) { reseed(seed); }
  void reseed(uint64_t seed);
  uint64_t next();
  double uniform();  // [0, 1) with 53 random bits

 private:
  uint64_t s_[4]{};
};

class Sampler {
 public:
  Sampler(int64_t n_vocab, SamplingParams params);

  // logits: [n_vocab] (not modified). Returns the chosen token id. allowed: empty, or a bit mask
  // of ceil(n_vocab / 64) words (bit t of word t / 64: token t may be chosen) applied before
  // every other step, as constrained decoding needs (runtime/grammar/token_mask.hpp). Throws
  // when the mask allows no token.
  int32_t sample(std::span<const float> logits, std::span<const uint64_t> allowed = {});
  // Records a token as part of the history the penalties see (prompt tokens too, if wanted).
  void accept(int32_t token);
  void reset();  // clears history and reseeds the RNG
  const SamplingParams& params() const { return p_; }

 private:
  struct Cand {
    int32_t id;
    float logit;
  };
  int64_t n_vocab_;
  SamplingParams p_;
  Rng rng_;
  std::vector<Cand> cand_;           // [n_vocab]
  std::vector<float> probs_;         // [n_vocab]
  std::vector<int32_t> counts_;      // [n_vocab] occurrences inside the window
  std::vector<int32_t> window_;      // ring buffer of the last penalty_last_n tokens
  std::vector<int32_t> touched_;     // ids that may have counts_ > 0 (penalties skip a vocab scan)
  std::vector<uint8_t> in_touched_;  // [n_vocab] membership flags of touched_
  size_t window_pos_ = 0, window_len_ = 0;
};

}  // namespace minima
