// The transformer forward pass of one sequence over its KV cache. All scratch is allocated in the
// constructor for the largest batch (n_batch) and the context (n_ctx); eval() allocates nothing,
// so it can sit inside the token loop.
//
// Thread-safety: a Session is used by one thread at a time; the ThreadPool is borrowed.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/kernels/kernels.hpp"
#include "core/matmul.hpp"
#include "core/threads.hpp"
#include "model/kv_cache.hpp"
#include "model/model.hpp"

namespace minima {

struct SessionOptions {
  int64_t n_ctx = 0;      // 0: the model's training context
  int64_t n_batch = 256;  // tokens per forward chunk
  bool exact = false;     // scalar reference matmuls with F32 activations (see core/matmul.hpp)
};

class Session {
 public:
  Session(const Model& model, const KernelSet& kernels, ThreadPool& pool, SessionOptions opt);

  // Appends tokens at positions n_past().. and runs them through the model (in chunks of n_batch).
  // logits_out: [tokens.size(), n_vocab] to receive the logits of every position, or null; either
  // way last_logits() afterwards holds the last position's logits.
  void eval(std::span<const int32_t> tokens, float* logits_out = nullptr);

  std::span<const float> last_logits() const {
    return {logits_.data(), static_cast<size_t>(hp_.n_vocab)};
  }
  int64_t n_past() const { return n_past_; }
  int64_t n_ctx() const { return kv_.n_ctx(); }
  void reset() { n_past_ = 0; }  // forget the sequence (the cache is overwritten as it refills)
  const Model& model() const { return model_; }

 private:
  void forward_chunk(const int32_t* tokens, int64_t n, float* logits_out);
  void attention(int64_t layer, int64_t n, int64_t pos0);
  void rope_tables(int64_t n, int64_t pos0);

  const Model& model_;
  const HParams& hp_;
  const KernelSet& ks_;
  ThreadPool& pool_;
  SessionOptions opt_;
  KvCache kv_;
  MatmulScratch mm_;
  int64_t n_past_ = 0;

  // Scratch, B = n_batch:
  std::vector<float> x_;             // [B, n_embd] residual stream
  std::vector<float> xn_;            // [B, n_embd] normalized input of a block
  std::vector<float> q_;             // [B, n_head * hd]
  std::vector<float> k_;             // [B, n_head_kv * hd]
  std::vector<float> v_;             // [B, n_head_kv * hdv]
  std::vector<float> att_;           // [B, n_head * hdv]
  std::vector<float> gate_;          // [B, n_ff]
  std::vector<float> up_;            // [B, n_ff]
  std::vector<float> attn_scratch_;  // [n_threads, kAttnScratchFloats]
  std::vector<float> cos_, sin_;     // [B, n_rot / 2]
  std::vector<double> inv_freq_;     // [n_rot / 2] angle per position of each rotated pair
  std::vector<float> logits_;        // [n_vocab] last position
};

}  // namespace minima
