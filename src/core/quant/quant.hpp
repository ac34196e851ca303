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

// Quantization that searches, per block, for the scales (and mins) minimizing the squared error
// Σ w·(x − x̂)² (search_quantize.cpp), for `minima quantize`. importance: [n] non-negative weights
// (a row of an importance matrix, the same for every row of a tensor) or null for w = 1. Where
// quantize_searches(t, importance) is false (Q8_0 and float types always; the legacy 32-block
// types without importance, so that their files equal the reference tools' byte for byte) this
// is quantize_row_ref. Throws Error when n is not a multiple of t's block.
void quantize_row_search(DType t, const float* src, void* dst, int64_t n, const float* importance);
bool quantize_searches(DType t, bool with_importance);

// Dot product of a weight row w (type wt) with an activation row a that is already in
// type_info(wt).vec_dot_type (F32 for F32/F16/BF16 weights). The accumulation order follows the
// block structure (integer sums inside a block, float across blocks) like ggml's reference.
float vec_dot_ref(DType wt, const void* w, const void* a, int64_t n);

}  // namespace minima::quant
