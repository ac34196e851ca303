// AVX2 dequantizers for the formats whose rows the prefill GEMM unpacks (core/gemm.hpp) and that
// had none: Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K (layouts: core/quant/legacy_ref.cpp and
// kquant_ref.cpp).
//
// Bit-identical to the references: the quant codes are unpacked with integer ops into bytes, in
// element order, then widened to float and combined with the same float factors (computed in
// scalar float exactly as the reference does). Where the reference computes d·q + m or dl·q − ml,
// the product is exact (at most 11 + 6 + 5 significant bits), so the fused multiply-add rounds
// once, like the reference's separate add.
#include "core/kernels/avx2.hpp"

#ifdef MINIMA_HAVE_AVX2_KERNELS

#include <immintrin.h>

#include <cstring>

#include "core/quant/kquant_scales.hpp"
#include "core/quant/types.hpp"

namespace minima::avx2 {
namespace {

MINIMA_AVX2 static inline float half(uint16_t h) {
  return _cvtsh_ss(h);
}

MINIMA_AVX2 static inline __m256i load32(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// 16 bytes of nibbles -> 32 bytes in element order: byte j's low nibble is element j, its high
// nibble element j + 16.
MINIMA_AVX2 static inline __m256i nibbles16(const uint8_t* qs) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), _mm256_set1_epi8(0x0F));
}

// The 32 bits of qh (little-endian) as bytes: 0x10 where bit j is set, 0 elsewhere.
MINIMA_AVX2 static inline __m256i high_bits(const uint8_t* qh) {
  uint32_t h;
  std::memcpy(&h, qh, 4);
  // Byte j takes byte j / 8 of h (each 128-bit lane of the shuffle source holds all of h) and
  // tests bit j % 8 of it.
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(int(h)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit),
                          _mm256_set1_epi8(0x10));
}

// Float values of bytes 8i .. 8i+7 of q (signed or unsigned per Signed).
template <bool Signed>
MINIMA_AVX2 static inline __m256 widen(__m256i q, int i) {
  const __m128i half_reg = i < 2 ? _mm256_castsi256_si128(q) : _mm256_extracti128_si256(q, 1);
  const __m128i b = (i & 1) ? _mm_srli_si128(half_reg, 8) : half_reg;
  return _mm256_cvtepi32_ps(Signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b));
}

// dst[0..31] = d·q (q signed bytes).
MINIMA_AVX2 static inline void store_scaled(__m256i q, float d, float* dst) {
  const __m256 vd = _mm256_set1_ps(d);
  for (int i = 0; i < 4; ++i) _mm256_storeu_ps(dst + 8 * i, _mm256_mul_ps(vd, widen<true>(q, i)));
}

// dst[0..31] = d·q + m (q unsigned bytes).
MINIMA_AVX2 static inline void store_affine(__m256i q, float d, float m, float* dst) {
  const __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(m);
  for (int i = 0; i < 4; ++i)
    _mm256_storeu_ps(dst + 8 * i, _mm256_fmadd_ps(vd, widen<false>(q, i), vm));
}

// dst[0..31] = dl·q − ml with separate factors for elements 0..15 and 16..31 (q unsigned bytes).
MINIMA_AVX2 static inline void store_affine_halves(__m256i q, const float dl[2], const float ml[2],
                                                   float* dst) {
  for (int i = 0; i < 4; ++i) {
    const __m256 vd = _mm256_set1_ps(dl[i / 2]), vm = _mm256_set1_ps(ml[i / 2]);
    _mm256_storeu_ps(dst + 8 * i, _mm256_fmsub_ps(vd, widen<false>(q, i), vm));
  }
}

// dst[0..31] = dl·q with separate factors for elements 0..15 and 16..31 (q signed bytes).
MINIMA_AVX2 static inline void store_scaled_halves(__m256i q, const float dl[2], float* dst) {
  for (int i = 0; i < 4; ++i)
    _mm256_storeu_ps(dst + 8 * i, _mm256_mul_ps(_mm256_set1_ps(dl[i / 2]), widen<true>(q, i)));
}

}  // namespace

MINIMA_AVX2 void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / QK4_1; ++i, dst += QK4_1)
    store_affine(nibbles16(b[i].qs), half(b[i].d), half(b[i].m), dst);
}

MINIMA_AVX2 void dequantize_q5_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_0*>(src);
  for (int64_t i = 0; i < n / QK5_0; ++i, dst += QK5_0) {
    const __m256i q = _mm256_or_si256(nibbles16(b[i].qs), high_bits(b[i].qh));
    store_scaled(_mm256_sub_epi8(q, _mm256_set1_epi8(16)), half(b[i].d), dst);
  }
}

MINIMA_AVX2 void dequantize_q5_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_1*>(src);
  for (int64_t i = 0; i < n / QK5_1; ++i, dst += QK5_1) {
    const __m256i q = _mm256_or_si256(nibbles16(b[i].qs), high_bits(b[i].qh));
    store_affine(q, half(b[i].d), half(b[i].m), dst);
  }
}

MINIMA_AVX2 void dequantize_q2_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ2_K*>(src);
  const __m256i two_bits = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    const float d = half(b[i].d), dmin = half(b[i].dmin);
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = load32(b[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        // Elements 128h + 32j + l, l < 32: bits 2j..2j+1 of qs[32h + l]; sub-blocks of 16.
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * j), two_bits);
        const int s = 8 * h + 2 * j;
        const float dl[2] = {d * float(b[i].scales[s] & 15), d * float(b[i].scales[s + 1] & 15)};
        const float ml[2] = {dmin * float(b[i].scales[s] >> 4),
                             dmin * float(b[i].scales[s + 1] >> 4)};
        store_affine_halves(q, dl, ml, dst + 128 * h + 32 * j);
      }
    }
  }
}

MINIMA_AVX2 void dequantize_q3_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ3_K*>(src);
  const __m256i two_bits = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    const float d = half(b[i].d);
    uint8_t u[16];  // scale codes, scale = u − 32
    minima::quant::unpack_scales_q3k_words(b[i].scales, u);
    const __m256i hmask = load32(b[i].hmask);
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = load32(b[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        // q = low2 + 4·high − 4, high = bit 4h + j of hmask[l].
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * j), two_bits);
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(hmask, 4 * h + j), one);
        const __m256i q =
            _mm256_sub_epi8(_mm256_or_si256(low, _mm256_slli_epi16(high, 2)), _mm256_set1_epi8(4));
        const int s = 8 * h + 2 * j;
        const float dl[2] = {d * float(int(u[s]) - 32), d * float(int(u[s + 1]) - 32)};
        store_scaled_halves(q, dl, dst + 128 * h + 32 * j);
      }
    }
  }
}

MINIMA_AVX2 void dequantize_q5_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_K*>(src);
  const __m256i nib = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    uint8_t sc[8], m[8];
    minima::quant::unpack_scales_q4k_words(b[i].scales, sc, m);
    const float d = half(b[i].d), dmin = half(b[i].dmin);
    const __m256i qh = load32(b[i].qh);
    for (int k = 0; k < 4; ++k) {
      // Elements 64k + l and 64k + 32 + l: low / high nibble of qs[32k + l], fifth bit = bit 2k /
      // 2k + 1 of qh[l].
      const __m256i qs = load32(b[i].qs + 32 * k);
      for (int s = 0; s < 2; ++s) {
        const __m256i low = _mm256_and_si256(s == 0 ? qs : _mm256_srli_epi16(qs, 4), nib);
        const __m256i fifth = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k + s), one);
        const __m256i q = _mm256_or_si256(low, _mm256_slli_epi16(fifth, 4));
        const int sb = 2 * k + s;
        const float dl[2] = {d * float(sc[sb]), d * float(sc[sb])};
        const float ml[2] = {dmin * float(m[sb]), dmin * float(m[sb])};
        store_affine_halves(q, dl, ml, dst + 64 * k + 32 * s);
      }
    }
  }
}

}  // namespace minima::avx2

#endif
