// One sequence over its own KV blocks: the simple interface `minima generate`, `logits` and
// `bench` use. It runs the same batched Forward as the server (model/batch_forward.hpp) with a
// private pool whose blocks are all this sequence's, in order. All scratch is allocated in the
// constructor; eval() allocates nothing, so it can sit inside the token loop.
//
// Thread-safety: a Session is used by one thread at a time; the ThreadPool is borrowed.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/batch_forward.hpp"

namespace minima {

struct SessionOptions {
  int64_t n_ctx = 0;      // 0: the model's training context
  int64_t n_batch = 256;  // tokens per forward chunk
  bool exact = false;     // scalar reference matmuls with F32 activations (see core/matmul.hpp)
};

class Session {
 public:
  static constexpr int64_t kBlockSize = 16;

  Session(const Model& model, const KernelSet& kernels, ThreadPool& pool, SessionOptions opt);

  // Appends tokens at positions n_past().. and runs them through the model (in chunks of n_batch).
  // logits_out: [tokens.size(), n_vocab] to receive the logits of every position, or null; either
  // way last_logits() afterwards holds the last position's logits. decode: the tokens are decode
  // steps (generated tokens fed back one at a time: GEMV path), else prompt rows (GEMM path); the
  // server's engine makes the same choice per row, so both compute the same bits.
  void eval(std::span<const int32_t> tokens, float* logits_out = nullptr, bool decode = false);

  std::span<const float> last_logits() const { return {logits_.data(), logits_.size()}; }
  int64_t n_past() const { return n_past_; }
  int64_t n_ctx() const { return n_ctx_; }
  void reset() { n_past_ = 0; }  // forget the sequence (its blocks are overwritten as it refills)
  const Model& model() const { return model_; }
  void set_observer(MatmulObserver* o) { fwd_.set_observer(o); }

 private:
  const Model& model_;
  SessionOptions opt_;
  int64_t n_ctx_;
  KvPool kv_;
  std::vector<int32_t> table_;  // [n_blocks] = 0, 1, 2, ...
  Forward fwd_;
  std::vector<int32_t> pos_, seq_, rows_;  // [n_batch] per-chunk row data
  std::vector<float> logits_;              // [n_vocab] last position
  int64_t n_past_ = 0;
};

}  // namespace minima
