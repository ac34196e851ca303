// AVX-512 SwiGLU activation (contract: SiluMulFn in kernels.hpp): 16 elements per step, the last
// partial step masked, so every element goes through the same operations wherever it lies.
// Accuracy against silu_mul_ref: e^-x from exp_ps (the Cephes polynomial, within ~2 ulp of the
// correctly rounded value where libm's expf is within 1), then the same three correctly rounded
// operations (1 + e, the division, the product with up) as the reference: the two differ by a
// few ulp of the result (tests/core/activation_test.cpp bounds it by 8 ulp). Below x = -88 e^-x
// saturates at ~2.4e38 instead of overflowing, which leaves silu(x) a tiny negative number
// instead of -0 (the reference's), an absolute difference below 1e-36.
#include "core/kernels/avx512.hpp"

#ifdef MINIMA_HAVE_AVX512_KERNELS

#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start some conversions from _mm512_undefined_*(), which it then
// reports as "(may be) used uninitialized" once inlined here (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "core/kernels/avx512_math.hpp"

namespace minima::avx512 {

MINIMA_AVX512 void silu_mul(float* gate, const float* up, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 u = _mm512_maskz_loadu_ps(m, up + i);
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g));
    const __m512 s = _mm512_div_ps(g, _mm512_add_ps(one, e));
    _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(s, u));
  }
}

}  // namespace minima::avx512

#endif  // MINIMA_HAVE_AVX512_KERNELS
