// y = x · Wᵀ for a weight matrix in any supported type: the one op that touches the big weights.
//
// Fast path, chosen per activation row by the caller (n_decode), never by the batch size, so a
// row's result depends only on the row and its path — not on which other rows share the call (a
// request served beside others gets the bits it gets alone):
//   decode rows: each activation row is converted once to the weight type's vec_dot_type
//     (Q8_0 / Q8_1 / Q8_K for quantized weights, F32 for float weights) and gemv_rows streams the
//     weights once for all tokens (memory-bound; core/gemv.hpp);
//   prefill rows: where the kernel table has an integer GEMM for the weight type (Q4_0, Q8_0, Q4_K,
//     Q5_K, Q6_K on AVX-512 VNNI), the rows are quantized to Q8_0 once and qgemm_rows multiplies
//     them with repacked weight strips in integers (core/qgemm.hpp); otherwise gemm_rows
//     dequantizes strips of weight rows into F32 panels and runs a register-blocked F32 kernel over
//     all tokens (core/gemm.hpp). Both are compute-bound.
// Threads split the output rows in both cases: statically, except one-token decode where the table
// has a DotRowsDynFn for the weight type, whose rows the threads take from a RowQueue (a fast
// thread helps a slow one; same bits).
// Exact path (reference): each weight row is dequantized with the scalar reference and dotted with
// the F32 activations in float, in order — the math of an F32 twin of the model.
#pragma once

#include <cstdint>
#include <span>

#include "core/kernels/kernels.hpp"
#include "core/row_queue.hpp"
#include "core/tensor.hpp"
#include "core/threads.hpp"

namespace minima {

// Scratch sized once (before any token loop) for the largest matmul a model will run.
class MatmulScratch {
 public:
  MatmulScratch() = default;
  // max_in: largest input dimension; max_tokens: largest batch; n_threads for the exact path.
  MatmulScratch(int64_t max_in, int64_t max_tokens, int n_threads);

  std::span<uint8_t> act() { return act_; }
  float* exact_row(int ith) {
    return exact_rows_.data() + static_cast<size_t>(ith) * static_cast<size_t>(max_in_);
  }
  float* gemm_scratch(int ith) { return gemm_.data() + static_cast<size_t>(ith) * gemm_floats_; }
  uint8_t* q8_row(int ith) { return q8_rows_.data() + static_cast<size_t>(ith) * q8_row_bytes_; }
  int64_t max_in() const { return max_in_; }
  int64_t max_tokens() const { return max_tokens_; }
  // Queues for dynamically split decode GEMVs, one per weight of a shared-input call.
  static constexpr size_t kQueues = 4;
  size_t n_queues() const { return queues_.size(); }
  RowQueue& queue(size_t i) { return queues_[i]; }

 private:
  int64_t max_in_ = 0, max_tokens_ = 0;
  std::vector<uint8_t> act_;       // [max_tokens, bytes of a max_in row in the widest vec_dot_type]
  std::vector<float> exact_rows_;  // [n_threads, max_in]
  size_t gemm_floats_ = 0;
  std::vector<float> gemm_;  // [n_threads, max(gemm_scratch_floats(max_in), qgemm scratch)]
  size_t q8_row_bytes_ = 0;
  std::vector<uint8_t> q8_rows_;  // [n_threads, one Q8_0 row of max_in]: qgemm_quantize's tmp
  std::vector<RowQueue> queues_;  // [kQueues], each for n_threads
};

// w: [n_out = w.ne1, n_in = w.ne0]   x: [n_tok, n_in]   y: [n_tok, n_out]
// Rows [0, n_decode) take the decode (GEMV) path, rows [n_decode, n_tok) the prefill (GEMM) path.
void matmul(const KernelSet& ks, ThreadPool& pool, MatmulScratch& scratch, const TensorView& w,
            const float* x, int64_t n_tok, float* y, bool exact, int64_t n_decode);

// ys[i] = x · ws[i]ᵀ for weights that share the input (q/k/v, gate/up), with the bits of separate
// matmul() calls. When every row is a decode row and the weights take the same activation type,
// the input is converted once and one pool run covers all the weights (one synchronisation
// instead of one per weight, which matters for small models); when every row is a prompt row on
// the integer path with one code offset, the input is quantized once; otherwise separate calls.
void matmul_shared_input(const KernelSet& ks, ThreadPool& pool, MatmulScratch& scratch,
                         std::span<const TensorView* const> ws, const float* x, int64_t n_tok,
                         std::span<float* const> ys, bool exact, int64_t n_decode);

// Row r of w as floats (token embedding lookup): dst: [w.ne0].
void dequantize_row(const KernelSet& ks, const TensorView& w, int64_t r, float* dst, bool exact);

}  // namespace minima
