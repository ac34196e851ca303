// The order in which a run visits the windows of a token shard (see trainer.hpp): shared by
// `minima train` and `minima distill`, so the batch of any step is a function of (seed, step) and
// resuming is bit-identical.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "train/rng.hpp"
#include "train/shard.hpp"

namespace minima::train {

// The windows of a shard in the order the run visits them (see trainer.hpp).
class WindowOrder {
 public:
  WindowOrder(uint64_t n_windows, uint64_t seed) : w_(n_windows), seed_(seed) {}
  uint64_t window(uint64_t seq) {
    const uint64_t epoch = seq / w_;
    if (perm_.empty() || epoch != epoch_) {
      perm_.resize(w_);
      for (uint64_t i = 0; i < w_; ++i) perm_[i] = i;
      shuffle(perm_, seed_, 0x5EED000000000000ull + epoch);
      epoch_ = epoch;
    }
    return perm_[seq % w_];
  }

 private:
  uint64_t w_, seed_, epoch_ = 0;
  std::vector<uint64_t> perm_;
};

// Inputs and targets of window w of a shard (n_ctx + 1 tokens starting at w·n_ctx).
inline void fill_window(const TokenShard& shard, uint64_t w, int64_t t, std::vector<int32_t>& buf,
                        int32_t* tokens, int32_t* targets) {
  shard.read(w * uint64_t(t), std::span<int32_t>(buf.data(), size_t(t + 1)));
  std::copy(buf.begin(), buf.begin() + t, tokens);
  std::copy(buf.begin() + 1, buf.begin() + t + 1, targets);
}

}  // namespace minima::train
