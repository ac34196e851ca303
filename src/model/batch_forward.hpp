// The transformer forward pass over a batch of tokens that may belong to different sequences
// (continuous batching): row i is token tokens[i] at position pos[i] of sequence seq[i], whose KV
// blocks are listed in seqs[seq[i]]. Every row's keys and values are written into the pool, then
// each row attends causally to positions [0, pos[i]] of its own sequence, which must already be in
// the pool or among the batch's earlier rows.
//
// All scratch is allocated in the constructor for max_batch rows; run() allocates nothing.
// Thread-safety: one run() at a time per Forward; the ThreadPool is borrowed.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/kernels/kernels.hpp"
#include "core/matmul.hpp"
#include "core/threads.hpp"
#include "model/kv_pool.hpp"
#include "model/model.hpp"

namespace minima {

struct SeqBlocks {
  const int32_t* table = nullptr;  // pool block ids in position order
  int64_t n_blocks = 0;
};

struct Batch {
  std::span<const int32_t> tokens;      // [n]
  std::span<const int32_t> pos;         // [n] position of each row in its sequence
  std::span<const int32_t> seq;         // [n] index into seqs
  std::span<const SeqBlocks> seqs;      // block tables of the sequences in the batch
  std::span<const int32_t> logit_rows;  // rows whose logits are wanted, ascending
  // Rows [0, n_decode) are decode steps (memory-bound GEMV path), the rest prompt rows (GEMM
  // path). The path is the caller's choice by row role, never by batch size, so a sequence gets
  // the same bits whatever else shares its batch (core/matmul.hpp).
  int64_t n_decode = 0;
};

// Sees the input rows of every weight matmul before it runs: importance matrices (minima imatrix)
// and activation statistics for pruning are collected through it. Sites whose matmuls share one
// input (q/k/v, gate/up) are reported once.
enum class MatmulSite { AttnQkv, AttnOut, FfnGateUp, FfnDown, Output };

class MatmulObserver {
 public:
  virtual ~MatmulObserver() = default;
  // x: [n, cols] the rows entering the site's matmul(s); layer −1 for Output.
  virtual void observe(MatmulSite site, int64_t layer, const float* x, int64_t n, int64_t cols) = 0;
  // x: [n, n_embd] the residual stream entering block `layer` (layer = n_layer: after the last
  // block, before the output norm). Default: ignored.
  virtual void observe_residual(int64_t layer, const float* x, int64_t n, int64_t cols) {
    (void)layer, (void)x, (void)n, (void)cols;
  }
};

class Forward {
 public:
  Forward(const Model& model, const KernelSet& kernels, ThreadPool& pool, int64_t max_batch,
          bool exact);

  // logits: [batch.logit_rows.size(), n_vocab]. Throws Error on a malformed batch (token outside
  // the vocabulary, position beyond its sequence's blocks, too many rows ...).
  void run(const Batch& batch, KvPool& kv, float* logits);

  int64_t max_batch() const { return max_batch_; }
  void set_observer(MatmulObserver* o) { observer_ = o; }  // null: none (the default)
  const Model& model() const { return model_; }

 private:
  void check(const Batch& b, const KvPool& kv) const;
  void rope_tables(std::span<const int32_t> pos);
  void attention(const Batch& b, const KvPool& kv, int64_t layer);

  const Model& model_;
  const HParams& hp_;
  const KernelSet& ks_;
  ThreadPool& pool_;
  int64_t max_batch_;
  bool exact_;
  MatmulScratch mm_;
  MatmulObserver* observer_ = nullptr;

  // Scratch, B = max_batch:
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
};

}  // namespace minima
