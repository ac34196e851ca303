// Decode-side matrix-vector products: rows [r0, r1) of a quantized weight times activation rows
// already converted to the weight's vec_dot_type. Memory-bound: the goal is to stream each weight
// row once at DRAM bandwidth. Called by matmul() per thread with its own row range.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/kernels/kernels.hpp"
#include "core/tensor.hpp"

namespace minima {

// act: [n_tok] rows of act_stride bytes (vec_dot_type of w.type); y: [n_tok, ldy], writes
// y[t * ldy + r] for r in [r0, r1). Each element comes from KernelSet::dot_rows, whose value for a
// row does not depend on the other rows of the call, so any split of the rows over threads gives
// the same bits.
void gemv_rows(const KernelSet& ks, const TensorView& w, int64_t r0, int64_t r1, const uint8_t* act,
               size_t act_stride, int64_t n_tok, float* y, int64_t ldy);

}  // namespace minima
