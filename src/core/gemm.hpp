// Prefill-side matrix-matrix products with F32 activations: rows [r0, r1) of a weight matrix in any
// supported type times n_tok activation rows. Compute-bound: weights are dequantized once per
// strip of rows into a per-thread F32 panel laid out for the register-blocked microkernel, then
// reused for every token. Called by matmul() per thread with its own row range.
#pragma once

#include <cstdint>

#include "core/kernels/kernels.hpp"
#include "core/tensor.hpp"

namespace minima {

// Floats of per-thread scratch gemm_rows needs for rows of length k.
int64_t gemm_scratch_floats(int64_t k);

// x: [n_tok, w.ne0] F32; y: [n_tok, ldy], writes y[t * ldy + r] for r in [r0, r1).
// scratch: gemm_scratch_floats(w.ne0) floats owned by the calling thread.
void gemm_rows(const KernelSet& ks, const TensorView& w, int64_t r0, int64_t r1, const float* x, int64_t n_tok,
               float* y, int64_t ldy, float* scratch);

}  // namespace minima
