// AVX2 microkernel of the training GEMM (contract: SgemmMicroF32Fn in kernels.hpp, numerics in
// core/sgemm.hpp): a 6 × 16 tile of C in 12 ymm accumulators; per k two B loads, six broadcasts
// and twelve FMAs.
#include "core/kernels/avx2.hpp"

#ifdef MINIMA_HAVE_AVX2_KERNELS

#include <immintrin.h>

namespace minima::avx2 {

MINIMA_AVX2 void sgemm_micro_f32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                                 bool load_c) {
  constexpr int kMr = 6, kNr = 16;
  __m256 acc[kMr][2];
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) {
    acc[i][0] = load_c ? _mm256_loadu_ps(c + i * ldc) : _mm256_setzero_ps();
    acc[i][1] = load_c ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * kNr), b1 = _mm256_loadu_ps(b + k * kNr + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + k * kMr + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) {
    _mm256_storeu_ps(c + i * ldc, acc[i][0]);
    _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
  }
}

}  // namespace minima::avx2

#endif  // MINIMA_HAVE_AVX2_KERNELS
