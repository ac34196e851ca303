// General dense matrix product for training: C = (accumulate ? C : 0) + α·op(A)·op(B), all F32 in
// memory, row-major, op(X) = X or Xᵀ. The three products of a linear layer map onto it:
//   forward     Y[n, out]  = X[n, in] · W[out, in]ᵀ          (tb = true)
//   input grad  dX[n, in]  = dY[n, out] · W[out, in]
//   weight grad dW[out, in] += dY[n, out]ᵀ · X[n, in]         (ta = true, accumulate)
//
// Blocking (BLIS-style): for each block of kSgemmNc columns and kSgemmKc depth, op(B) is packed into
// panels of NR columns laid out [k][NR] (shared by the threads); each thread takes a contiguous
// range of MR-row panels of op(A), packs kSgemmMc rows at a time into [k][MR] panels (scaled by α),
// and calls the kernel table's MR×NR microkernel over every (row panel, column panel) pair.
// Partial tiles at the edges are zero-padded in the panels and go through a small tile buffer.
// One pool job per call: the threads pack their share of each block's B panels, meet at a spin
// barrier, and compute; B blocks alternate between two buffers, so one barrier per block is enough
// (a thread packing block i + 1 knows every thread has finished computing block i − 1).
//
// Numerics, F32: every output element is one chain c ← c + (α·a_k)·b_k in increasing k, started at
// C's old value (accumulate) or 0, carried in float through the k-blocks (stored to C and reloaded,
// which is exact); α·a_k is rounded once when packing. The microkernels fuse each step (one
// rounding); the scalar reference (sgemm_ref) rounds product and sum separately. So the result is
// the same for any thread count and blocking, and both are within γ_{K+1}·(|c0| + Σ_k|α·a_k·b_k|)
// of the exact value (γ_n = n·u/(1 − n·u), u = 2^-24).
// BF16 (CPUs with AVX512_BF16): α·a_k and b_k are rounded to bfloat16 (nearest even) when packing,
// and the chain advances two k at a time, c ← c + (a_k·b_k + a_{k+1}·b_{k+1}) (vdpbf16ps: the
// products are exact in float; denormal inputs and results are flushed to zero). sgemm_ref with
// BF16 rounds the same inputs and sums the same pairs in increasing k, with separate roundings.
#pragma once

#include <cstdint>
#include <vector>

#include "core/kernels/kernels.hpp"
#include "core/threads.hpp"

namespace minima {

enum class GemmPrecision { F32, BF16 };

inline constexpr int64_t kSgemmKc = 256;   // depth of a packed block (even: BF16 pairs)
inline constexpr int64_t kSgemmMc = 96;    // rows of A packed at a time per thread
inline constexpr int64_t kSgemmNc = 2048;  // columns of B packed at a time

// Packing buffers, allocated once for a thread count (before any training step) and reused.
class GemmWorkspace {
 public:
  GemmWorkspace() = default;
  explicit GemmWorkspace(int n_threads);
  int n_threads() const { return int(threads_.size()); }

 private:
  friend struct SgemmDriver;
  struct PerThread {
    std::vector<float> a;     // [kSgemmMc + max MR][kSgemmKc] panels of op(A)
    std::vector<float> b;     // [kSgemmNc + max NR][kSgemmKc] panels of op(B) (serial calls)
    std::vector<float> tile;  // one MR × NR edge tile
  };
  std::vector<PerThread> threads_;
  std::vector<float> shared_b_[2];  // panels of op(B) for pool calls, alternating per block
};

struct GemmShape {
  bool ta = false, tb = false;  // op(A) = Aᵀ, op(B) = Bᵀ
  int64_t m = 0, n = 0, k = 0;  // op(A): [m, k], op(B): [k, n], C: [m, n]
  int64_t lda = 0, ldb = 0, ldc = 0;
};

// Uses every thread of pool (ws must have been built for pool.size() threads).
void sgemm(const KernelSet& ks, ThreadPool& pool, GemmWorkspace& ws, GemmPrecision prec,
           const GemmShape& s, float alpha, const float* a, const float* b, float* c,
           bool accumulate);
// On the calling thread only, with thread ith's buffers of ws: for many small independent products
// run inside one pool job (attention heads).
void sgemm_serial(const KernelSet& ks, GemmWorkspace& ws, int ith, GemmPrecision prec,
                  const GemmShape& s, float alpha, const float* a, const float* b, float* c,
                  bool accumulate);

// The scalar reference: each element's chain in increasing k with separate roundings (see above).
void sgemm_ref(GemmPrecision prec, const GemmShape& s, float alpha, const float* a,
               const float* b, float* c, bool accumulate);

// Scalar microkernels of the reference table (MR = 4, NR = 8): c[i·ldc + j] = (load_c ?
// c[i·ldc + j] : 0) + Σ_k a[k·MR + i]·b[k·NR + j] in increasing k.
void sgemm_micro_f32_ref(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                         bool load_c);

}  // namespace minima
