// Dispatch of the row-level reference entry points to the per-type kernels in ref_kernels.hpp.
// Argument checks live here (once) so the per-type kernels can assume a whole number of blocks.
#include "core/quant/quant.hpp"

#include "core/error.hpp"
#include "core/quant/ref_kernels.hpp"

namespace minima::quant {

namespace ref {

RefRow ref_row(DType t) {
  switch (t) {
    case DType::F32:
      return {dequantize_f32, quantize_f32, dot_f32};
    case DType::F16:
      return {dequantize_f16, quantize_f16, dot_f16};
    case DType::BF16:
      return {dequantize_bf16, quantize_bf16, dot_bf16};
    case DType::Q4_0:
      return {dequantize_q4_0, quantize_q4_0, dot_q4_0};
    case DType::Q4_1:
      return {dequantize_q4_1, quantize_q4_1, dot_q4_1};
    case DType::Q5_0:
      return {dequantize_q5_0, quantize_q5_0, dot_q5_0};
    case DType::Q5_1:
      return {dequantize_q5_1, quantize_q5_1, dot_q5_1};
    case DType::Q8_0:
      return {dequantize_q8_0, quantize_q8_0, dot_q8_0};
    case DType::Q8_1:
      return {dequantize_q8_1, quantize_q8_1, nullptr};
    case DType::Q2_K:
      return {dequantize_q2_k, quantize_q2_k, dot_q2_k};
    case DType::Q3_K:
      return {dequantize_q3_k, quantize_q3_k, dot_q3_k};
    case DType::Q4_K:
      return {dequantize_q4_k, quantize_q4_k, dot_q4_k};
    case DType::Q5_K:
      return {dequantize_q5_k, quantize_q5_k, dot_q5_k};
    case DType::Q6_K:
      return {dequantize_q6_k, quantize_q6_k, dot_q6_k};
    case DType::Q8_K:
      return {dequantize_q8_k, quantize_q8_k, nullptr};
  }
  return {};
}

}  // namespace ref

namespace {

const TypeInfo& checked(DType t, int64_t n, const char* what) {
  const TypeInfo& ti = type_info(t);  // throws for ids outside the enum
  if (n < 0 || n % ti.block_size != 0) {
    fail(what, ": ", n, " elements is not a multiple of the ", ti.name, " block size ",
         ti.block_size);
  }
  return ti;
}

}  // namespace

void dequantize_row_ref(DType t, const void* src, float* dst, int64_t n) {
  checked(t, n, "dequantize_row_ref");
  ref::ref_row(t).dequantize(src, dst, n);
}

void quantize_row_ref(DType t, const float* src, void* dst, int64_t n) {
  checked(t, n, "quantize_row_ref");
  ref::ref_row(t).quantize(src, dst, n);
}

float vec_dot_ref(DType wt, const void* w, const void* a, int64_t n) {
  const TypeInfo& ti = checked(wt, n, "vec_dot_ref");
  const ref::DotFn dot = ref::ref_row(wt).dot;
  if (dot == nullptr) fail("vec_dot_ref: ", ti.name, " is an activation type, not a weight type");
  return dot(w, a, n);
}

}  // namespace minima::quant
