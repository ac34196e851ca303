// Per-type scalar reference kernels (internal to core). quant.hpp's dequantize_row_ref /
// quantize_row_ref / vec_dot_ref dispatch through ref_row(); the kernel tables
// (core/kernels) use the same pointers as their fallback entries, so "scalar" and "reference" are
// one code path.
//
// Signatures match core/kernels' DequantizeRowFn / QuantizeRowFn / VecDotFn: n is a count of
// elements (a multiple of the type's block size); dot's `a` is in the weight type's vec_dot_type.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/quant/types.hpp"

namespace minima::quant::ref {

using DequantizeFn = void (*)(const void* src, float* dst, int64_t n);
using QuantizeFn = void (*)(const float* src, void* dst, int64_t n);
using DotFn = float (*)(const void* w, const void* a, int64_t n);

struct RefRow {
  DequantizeFn dequantize = nullptr;
  QuantizeFn quantize = nullptr;
  DotFn dot = nullptr;  // null for activation-only types (Q8_1, Q8_K)
};

// All-null row for ids minima does not support.
RefRow ref_row(DType t);

// Several rows at once: out[i] = ref_row(t).dot(w + i·row_stride, a, n) for i < n_rows; null
// where the type has no dot (dot_rows_ref.cpp).
using DotRowsFn = void (*)(const void* w, size_t row_stride, int64_t n_rows, const void* a,
                           int64_t n, float* out);
DotRowsFn dot_rows(DType t);

// float_ref.cpp
void dequantize_f32(const void* src, float* dst, int64_t n);
void dequantize_f16(const void* src, float* dst, int64_t n);
void dequantize_bf16(const void* src, float* dst, int64_t n);
void quantize_f32(const float* src, void* dst, int64_t n);
void quantize_f16(const float* src, void* dst, int64_t n);
void quantize_bf16(const float* src, void* dst, int64_t n);
float dot_f32(const void* w, const void* a, int64_t n);
float dot_f16(const void* w, const void* a, int64_t n);
float dot_bf16(const void* w, const void* a, int64_t n);

// legacy_ref.cpp
void dequantize_q4_0(const void* src, float* dst, int64_t n);
void dequantize_q4_1(const void* src, float* dst, int64_t n);
void dequantize_q5_0(const void* src, float* dst, int64_t n);
void dequantize_q5_1(const void* src, float* dst, int64_t n);
void dequantize_q8_0(const void* src, float* dst, int64_t n);
void dequantize_q8_1(const void* src, float* dst, int64_t n);
void quantize_q4_0(const float* src, void* dst, int64_t n);
void quantize_q4_1(const float* src, void* dst, int64_t n);
void quantize_q5_0(const float* src, void* dst, int64_t n);
void quantize_q5_1(const float* src, void* dst, int64_t n);
void quantize_q8_0(const float* src, void* dst, int64_t n);
void quantize_q8_1(const float* src, void* dst, int64_t n);
float dot_q4_0(const void* w, const void* a, int64_t n);  // a: Q8_0
float dot_q4_1(const void* w, const void* a, int64_t n);  // a: Q8_1
float dot_q5_0(const void* w, const void* a, int64_t n);  // a: Q8_0
float dot_q5_1(const void* w, const void* a, int64_t n);  // a: Q8_1
float dot_q8_0(const void* w, const void* a, int64_t n);  // a: Q8_0

// kquant_ref.cpp (dequantize, dot, Q8_K) and kquant_quantize_ref.cpp (weight quantizers)
void dequantize_q2_k(const void* src, float* dst, int64_t n);
void dequantize_q3_k(const void* src, float* dst, int64_t n);
void dequantize_q4_k(const void* src, float* dst, int64_t n);
void dequantize_q5_k(const void* src, float* dst, int64_t n);
void dequantize_q6_k(const void* src, float* dst, int64_t n);
void dequantize_q8_k(const void* src, float* dst, int64_t n);
void quantize_q2_k(const float* src, void* dst, int64_t n);
void quantize_q3_k(const float* src, void* dst, int64_t n);
void quantize_q4_k(const float* src, void* dst, int64_t n);
void quantize_q5_k(const float* src, void* dst, int64_t n);
void quantize_q6_k(const float* src, void* dst, int64_t n);
void quantize_q8_k(const float* src, void* dst, int64_t n);
float dot_q2_k(const void* w, const void* a, int64_t n);  // a: Q8_K (all K dots)
float dot_q3_k(const void* w, const void* a, int64_t n);
float dot_q4_k(const void* w, const void* a, int64_t n);
float dot_q5_k(const void* w, const void* a, int64_t n);
float dot_q6_k(const void* w, const void* a, int64_t n);

}  // namespace minima::quant::ref
