// Scalar references of the training GEMM (contracts in core/sgemm.hpp). Plain loops, separate
// roundings of every product and sum (this file is compiled without FMA).
#include <cstddef>

#include "core/fp16.hpp"
#include "core/sgemm.hpp"

namespace minima {

void sgemm_micro_f32_ref(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                         bool load_c) {
  constexpr int kMr = 4, kNr = 8;
  for (int i = 0; i < kMr; ++i) {
    for (int j = 0; j < kNr; ++j) {
      float acc = load_c ? c[i * ldc + j] : 0.0f;
      for (int64_t k = 0; k < kc; ++k) acc += a[k * kMr + i] * b[k * kNr + j];
      c[i * ldc + j] = acc;
    }
  }
}

void sgemm_ref(GemmPrecision prec, const GemmShape& s, float alpha, const float* a,
               const float* b, float* c, bool accumulate) {
  const auto at = [&](int64_t i, int64_t k) {
    const float v = alpha * (s.ta ? a[k * s.lda + i] : a[i * s.lda + k]);
    return prec == GemmPrecision::BF16 ? bf16_to_fp32(fp32_to_bf16(v)) : v;
  };
  const auto bt = [&](int64_t k, int64_t j) {
    const float v = s.tb ? b[j * s.ldb + k] : b[k * s.ldb + j];
    return prec == GemmPrecision::BF16 ? bf16_to_fp32(fp32_to_bf16(v)) : v;
  };
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < s.n; ++j) {
      float acc = accumulate ? c[i * s.ldc + j] : 0.0f;
      if (prec == GemmPrecision::F32) {
        for (int64_t k = 0; k < s.k; ++k) acc += at(i, k) * bt(k, j);
      } else {
        // Pairs as vdpbf16ps adds them: both products exact in float, their sum rounded once.
        for (int64_t k = 0; k < s.k; k += 2) {
          const float p0 = at(i, k) * bt(k, j);
          const float p1 = k + 1 < s.k ? at(i, k + 1) * bt(k + 1, j) : 0.0f;
          acc += p0 + p1;
        }
      }
      c[i * s.ldc + j] = acc;
    }
  }
}

}  // namespace minima
