// AVX-512 microkernels of the training GEMM (contracts: SgemmMicroF32Fn / SgemmMicroBf16Fn in
// kernels.hpp, numerics in core/sgemm.hpp). A 12 × 32 tile of C lives in 24 zmm accumulators; per
// k (F32) or pair of k (BF16) the kernel loads the two 16-column vectors of the B panel,
// broadcasts each of the 12 A values (pairs) from memory and issues 24 FMAs (vdpbf16ps): 26 of the
// 32 registers, and two loads per FMA pair keep the FMA pipes fed.
#include "core/kernels/avx512.hpp"

#ifdef MINIMA_HAVE_AVX512_KERNELS

#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start some operations from _mm512_undefined_*(), which it then
// reports as "(may be) used uninitialized" once inlined here (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <algorithm>
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

#define MINIMA_AVX512_BF16                                                  \
  __attribute__((                                                           \
      target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma,f16c," \
             "avx512bf16")))

MINIMA_AVX512_BF16 void sgemm_micro_bf16(int64_t kc, const uint16_t* a, const uint16_t* b, float* c,
                                         int64_t ldc, bool load_c) {
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

namespace {

// 16 × 16 transpose of 32-bit words: r[i] word j -> r[j] word i.
MINIMA_AVX512_BF16 __attribute__((always_inline)) static inline void transpose16(__m512i (&r)[16]) {
  __m512i t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // Now r[4q + c] holds, in 128-bit lane L, words (4L .. 4L+3) of rows ... of quad q, column c.
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    const __m512i a0 = _mm512_shuffle_i32x4(r[c], r[4 + c], 0x44);
    const __m512i a1 = _mm512_shuffle_i32x4(r[c], r[4 + c], 0xEE);
    const __m512i b0 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0x44);
    const __m512i b1 = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0xEE);
    t[c] = _mm512_shuffle_i32x4(a0, b0, 0x88);
    t[4 + c] = _mm512_shuffle_i32x4(a0, b0, 0xDD);
    t[8 + c] = _mm512_shuffle_i32x4(a1, b1, 0x88);
    t[12 + c] = _mm512_shuffle_i32x4(a1, b1, 0xDD);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

}  // namespace

MINIMA_AVX512_BF16 void sgemm_pack_bf16_t(const float* src, int64_t ld, int64_t n, int64_t kc,
                                          float alpha, uint32_t* dst, int64_t width) {
  const __m512 va = _mm512_set1_ps(alpha);
  const int64_t pairs = (kc + 1) / 2;
  for (int64_t r0 = 0; r0 < n; r0 += 16) {
    const int64_t rows = std::min<int64_t>(16, n - r0);
    const __mmask16 row_mask = __mmask16((1u << rows) - 1u);
    for (int64_t k = 0; k < kc; k += 32) {
      const int64_t left = kc - k;
      const __mmask16 m0 = left >= 16 ? 0xFFFF : __mmask16((1u << left) - 1u);
      const __mmask16 m1 = left >= 32   ? 0xFFFF
                           : left <= 16 ? 0
                                        : __mmask16((1u << (left - 16)) - 1u);
      __m512i w[16];
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r) {
        if (r < rows) {
          const float* x = src + (r0 + r) * ld + k;
          const __m512 lo = _mm512_mul_ps(_mm512_maskz_loadu_ps(m0, x), va);
          const __m512 hi = _mm512_mul_ps(_mm512_maskz_loadu_ps(m1, x + 16), va);
          w[r] = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
        } else {
          w[r] = _mm512_setzero_si512();
        }
      }
      transpose16(w);
      const int64_t np = std::min<int64_t>(16, pairs - k / 2);
      for (int64_t p = 0; p < np; ++p)
        _mm512_mask_storeu_epi32(dst + (k / 2 + p) * width + r0, row_mask, w[p]);
    }
  }
}

MINIMA_AVX512_BF16 void sgemm_pack_bf16_n(const float* src, int64_t ld, int64_t n, int64_t kc,
                                          float alpha, uint32_t* dst, int64_t width) {
  const __m512 va = _mm512_set1_ps(alpha);
  for (int64_t k = 0; k < kc; k += 2) {
    const float* r0 = src + k * ld;
    const float* r1 = r0 + ld;
    for (int64_t j = 0; j < n; j += 16) {
      const int64_t cols = std::min<int64_t>(16, n - j);
      const __mmask16 m = __mmask16((1u << cols) - 1u);
      const __m512 x0 = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, r0 + j), va);
      const __m512 x1 =
          k + 1 < kc ? _mm512_mul_ps(_mm512_maskz_loadu_ps(m, r1 + j), va) : _mm512_setzero_ps();
      const __m512i lo = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(x0));
      const __m512i hi = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(x1));
      _mm512_mask_storeu_epi32(dst + (k / 2) * width + j, m,
                               _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
    }
  }
}

}  // namespace minima::avx512

#endif  // MINIMA_HAVE_AVX512_KERNELS
