// AVX-512 microkernels of the training GEMM (contracts: SgemmMicroF32Fn / SgemmMicroBf16Fn in
// kernels.hpp, numerics in core/sgemm.hpp). A 12 × 32 tile of C lives in 24 zmm accumulators; per
// k (F32) or pair of k (BF16) the kernel loads the two 16-column vectors of the B panel,
// broadcasts each of the 12 A values (pairs) from memory and issues 24 FMAs (vdpbf16ps): 26 of the
// 32 registers, and two loads per FMA pair keep the FMA pipes fed.
#include "core/kernels/avx512.hpp"

#ifdef MINIMA_HAVE_AVX512_KERNELS

#include <immintrin.h>

#include <cstring>

namespace minima::avx512 {
namespace {

constexpr int kMr = 12, kNr = 32;

template <class Acc>
MINIMA_AVX512 __attribute__((always_inline)) static inline void load_tile(const float* c,
                                                                           int64_t ldc, bool load_c,
                                                                           Acc& acc) {
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) {
    acc[i][0] = load_c ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps();
    acc[i][1] = load_c ? _mm512_loadu_ps(c + i * ldc + 16) : _mm512_setzero_ps();
  }
}

template <class Acc>
MINIMA_AVX512 __attribute__((always_inline)) static inline void store_tile(float* c, int64_t ldc,
                                                                            const Acc& acc) {
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) {
    _mm512_storeu_ps(c + i * ldc, acc[i][0]);
    _mm512_storeu_ps(c + i * ldc + 16, acc[i][1]);
  }
}

}  // namespace

MINIMA_AVX512 void sgemm_micro_f32(int64_t kc, const float* a, const float* b, float* c,
                                   int64_t ldc, bool load_c) {
  __m512 acc[kMr][2];
  load_tile(c, ldc, load_c, acc);
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b + k * kNr), b1 = _mm512_loadu_ps(b + k * kNr + 16);
#pragma GCC unroll 12
    for (int i = 0; i < kMr; ++i) {
      const __m512 ai = _mm512_set1_ps(a[k * kMr + i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  store_tile(c, ldc, acc);
}

__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma,f16c,avx512bf16")))
void sgemm_micro_bf16(
    int64_t kc, const uint16_t* a, const uint16_t* b, float* c, int64_t ldc, bool load_c) {
  __m512 acc[kMr][2];
  load_tile(c, ldc, load_c, acc);
  for (int64_t k2 = 0; k2 < kc / 2; ++k2) {
    const uint16_t* bk = b + k2 * 2 * kNr;
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bk);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bk + 32);
#pragma GCC unroll 12
    for (int i = 0; i < kMr; ++i) {
      int32_t pair;
      std::memcpy(&pair, a + (k2 * kMr + i) * 2, 4);
      const __m512bh ai = (__m512bh)_mm512_set1_epi32(pair);
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
    }
  }
  store_tile(c, ldc, acc);
}

}  // namespace minima::avx512

#endif  // MINIMA_HAVE_AVX512_KERNELS
