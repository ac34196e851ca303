// AVX-512 RMSNorm (contract: RmsNormFn in kernels.hpp). The reference's sum of squares is one
// chain of dependent double additions (~3 cycles each: ~6k cycles for a 2048-wide row, paid 45
// times per TinyLlama token on the thread that runs the glue between matmuls); here the squares go
// into four 8-lane double accumulators (products of floats are exact in double, so an FMA equals
// the reference's multiply-then-add), summed in a fixed order that depends only on n. The scale
// and the output use the reference's float operations in its order, so the two differ only through
// the rounding of the sum: at most a few ulp of the output (tests/core/norm_test.cpp).
#include "core/kernels/avx512.hpp"

#ifdef MINIMA_HAVE_AVX512_KERNELS

#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start some conversions from _mm512_undefined_*(), which it then
// reports as "(may be) used uninitialized" once inlined here (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cmath>

namespace minima::avx512 {

MINIMA_AVX512 void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps) {
  __m512d acc[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(),
                    _mm512_setzero_pd()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const __m512d d = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8 * j));
      acc[j] = _mm512_fmadd_pd(d, d, acc[j]);
    }
  }
  for (int j = 0; i < n; i += 8, j = (j + 1) % 4) {  // zero past n: adds nothing
    const __mmask8 m = n - i >= 8 ? __mmask8(0xFF) : __mmask8((1u << (n - i)) - 1);
    const __m512d d = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + i));
    acc[j] = _mm512_fmadd_pd(d, d, acc[j]);
  }
  const double ss = _mm512_reduce_add_pd(
      _mm512_add_pd(_mm512_add_pd(acc[0], acc[1]), _mm512_add_pd(acc[2], acc[3])));
  const float scale = 1.0f / std::sqrt(static_cast<float>(ss / double(n)) + eps);
  const __m512 s = _mm512_set1_ps(scale);
  for (i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), s);
    _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, w + i)));
  }
}

}  // namespace minima::avx512

#endif  // MINIMA_HAVE_AVX512_KERNELS
