// Scalar reference of the multi-row dot: every row through the type's reference dot, in row order.
// The fast multi-row kernels (core/kernels/avx2_rows_*.cpp) are tested against it.
#include "core/quant/ref_kernels.hpp"

namespace minima::quant::ref {
namespace {

template <DotFn Dot>
void rows(const void* w, size_t row_stride, int64_t n_rows, const void* a, int64_t n, float* out) {
  const auto* p = static_cast<const uint8_t*>(w);
  for (int64_t r = 0; r < n_rows; ++r) out[r] = Dot(p + static_cast<size_t>(r) * row_stride, a, n);
}

}  // namespace

DotRowsFn dot_rows(DType t) {
  switch (t) {
    case DType::F32:
      return rows<dot_f32>;
    case DType::F16:
      return rows<dot_f16>;
    case DType::BF16:
      return rows<dot_bf16>;
    case DType::Q4_0:
      return rows<dot_q4_0>;
    case DType::Q4_1:
      return rows<dot_q4_1>;
    case DType::Q5_0:
      return rows<dot_q5_0>;
    case DType::Q5_1:
      return rows<dot_q5_1>;
    case DType::Q8_0:
      return rows<dot_q8_0>;
    case DType::Q2_K:
      return rows<dot_q2_k>;
    case DType::Q3_K:
      return rows<dot_q3_k>;
    case DType::Q4_K:
      return rows<dot_q4_k>;
    case DType::Q5_K:
      return rows<dot_q5_k>;
    case DType::Q6_K:
      return rows<dot_q6_k>;
    case DType::Q8_1:
    case DType::Q8_K:
      return nullptr;
  }
  return nullptr;
}

}  // namespace minima::quant::ref
