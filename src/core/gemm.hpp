// Prefill-side matrix-matrix products with F32 activations: rows [r0, r1) of a weight matrix in any
// supported type times n_tok activation rows. Compute-bound: weights are dequantized once per
// strip of rows into a per-thread F32 panel laid out for the register-blocked microkernel, then
// reused for every token. Called by matmul() per thread with its own row range.
//
// Blocking (gemm.cpp): the weight rows are taken kGemmStripRows at a time and K in blocks of
// kGemmKBlock. Each (strip, k-block) is dequantized once (KernelSet::dequantize) and packed into
// panels of kGemmPanelRows rows laid out [k][16], so the microkernel loads the 16 weights of one k
// as two 8-float vectors. The microkernel (KernelSet::gemm_tile) walks the tokens in small groups
// and, for each group, every panel of the strip: the group's activation block stays in L1 while
// the strip's panels (kGemmStripRows · kGemmKBlock floats) stay in L2.
//
// Numerics: every output element is one chain y ← y + w_k·x_k in increasing k, carried in float
// through the k-blocks (the partial sum is stored to y and reloaded, which is exact). The AVX2
// kernel fuses each step (one rounding), the scalar reference rounds product and sum separately.
// So the result does not depend on the blocking, on the token grouping, or on how matmul splits
// the rows among threads, and |error| <= γ_K · Σ_k |w_k·x_k| (γ_K = K·u / (1 − K·u), u = 2^-24)
// against the exact product of the dequantized weights (which are bit-identical to the reference
// dequantizer's) and x.
#pragma once

#include <cstdint>

#include "core/kernels/kernels.hpp"
#include "core/tensor.hpp"

namespace minima {

inline constexpr int64_t kGemmPanelRows = 16;   // weight rows per panel (two 8-float vectors)
inline constexpr int64_t kGemmKBlock = 256;     // k per block: a multiple of every block size
inline constexpr int64_t kGemmStripRows = 256;  // rows dequantized together per k-block

// Floats of per-thread scratch gemm_rows needs for rows of length k.
int64_t gemm_scratch_floats(int64_t k);

// x: [n_tok, w.ne0] F32; y: [n_tok, ldy], writes y[t * ldy + r] for r in [r0, r1).
// scratch: gemm_scratch_floats(w.ne0) floats owned by the calling thread.
void gemm_rows(const KernelSet& ks, const TensorView& w, int64_t r0, int64_t r1, const float* x,
               int64_t n_tok, float* y, int64_t ldy, float* scratch);

// Scalar references of the two GEMM kernel entries (gemm_ref.cpp).
//
// rows: 16 rows of kc floats, row i at rows + i·ld; panel: [kc][16], panel[k·16 + i] = row i [k].
void gemm_pack_ref(const float* rows, int64_t ld, int64_t kc, float* panel);
// panels: [n_panels][kc][16]; x: [n_tok] rows of kc floats at stride ldx; y: [n_tok] rows at
// stride ldy, of which columns [16p, 16p + 16) belong to panel p:
//   y[t·ldy + 16p + i] = (accumulate ? y[t·ldy + 16p + i] : 0) + Σ_k panel_p[k·16 + i]·x[t·ldx + k]
// summed in increasing k.
void gemm_tile_ref(const float* panels, int64_t n_panels, int64_t kc, const float* x, int64_t ldx,
                   int64_t n_tok, float* y, int64_t ldy, bool accumulate);

}  // namespace minima
