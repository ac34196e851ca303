// Scalar reference implementations of every tensor format: the definition of each format that
// the SIMD kernels (core/kernels) are tested against. Plain C++, no intrinsics, no threads.
//
// Conventions: n is a number of elements and must be a multiple of type_info(t).block_size;
// src/dst point to n / block_size blocks of t.
#pragma once

#include <cstdint>

#include "core/quant/types.hpp"

namespace minima::quant {

// dst: [n] float
void dequantize_row_ref(DType t, const void* src, float* dst, int64_t n);

// Round-to-nearest quantization of one row into t. For Q8_0 / Q8_1 / Q8_K this is how activations
// are quantized before a dot product; for weight types it is a simple quantizer (no error search)
// used to write test models. F32/F16/BF16 are plain conversions.
void quantize_row_ref(DType t, const float* src, void* dst, int64_t n);

// Dot product of a weight row w (type wt) with an activation row a that is already in
// type_info(wt).vec_dot_type (F32 for F32/F16/BF16 weights). The accumulation order follows the
// block structure (integer sums inside a block, float across blocks) like ggml's reference.
float vec_dot_ref(DType wt, const void* w, const void* a, int64_t n);

}  // namespace minima::quant
