// AVX2 kernels for Q4_K, Q5_K and Q6_K (layouts: core/quant/kquant_ref.cpp).
//
// Q4_K / Q5_K: each 32-element sub-block is one register of unsigned codes (low or high nibbles
// of a 32-byte run, plus the qh bit for Q5_K); _mm256_maddubs_epi16 against the Q8_K bytes and
// _mm256_madd_epi16 against the broadcast 6-bit scale give eight exact int32 partial sums. The
// mins need only Σ q_a per sub-block: pairs of Q8_K bsums. Q6_K: codes u = q + 32 in 0..63, the
// register's two 16-element halves have separate int8 scales (pair selector as in
// avx2_kquant.cpp), and the −32 offset is −32·Σ sc·bsum. Bounds: maddubs pairs ≤ 2·63·127 = 16002
// < 2^15; per-block sums ≤ 256·128·32·127 < 2^31.
//
// Dequantizers are bit-identical to the references (each product of a half scale, a small
// integer scale and a code is exact in float, see kquant_ref.cpp).
#include "core/kernels/avx2.hpp"

#ifdef MINIMA_HAVE_AVX2_KERNELS

#include <immintrin.h>

#include "core/fp16.hpp"
#include "core/quant/kquant_scales.hpp"
#include "core/quant/types.hpp"

namespace minima::avx2 {
namespace {

MINIMA_AVX2 static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

MINIMA_AVX2 static inline int hsum_i32_128(__m128i s) {
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

MINIMA_AVX2 static inline float half(uint16_t h) {
  return _cvtsh_ss(h);
}

MINIMA_AVX2 static inline __m256i load32(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Σ_s m_s · (bsum_2s + bsum_2s+1) for the eight 32-element sub-blocks.
MINIMA_AVX2 static inline int mins_dot(const uint8_t* m, const int16_t* bsums) {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bsums));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bsums + 8));
  const __m128i pairs = _mm_hadd_epi16(lo, hi);  // |pair| ≤ 2·16·127, fits int16
  const __m128i m16 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(m)));
  return hsum_i32_128(_mm_madd_epi16(m16, pairs));
}

MINIMA_AVX2 static inline __m256i sub_dot(__m256i u, const int8_t* qa, int scale) {
  const __m256i p = _mm256_maddubs_epi16(u, load32(qa));
  return _mm256_madd_epi16(p, _mm256_set1_epi16(int16_t(scale)));
}

// Σ_s sc_s · Σ q·q_a over one block as eight int32 partial sums; kFifthBit selects Q5_K.
template <bool kFifthBit>
MINIMA_AVX2 static inline __m256i sums_4k5k(const uint8_t* qs, const uint8_t* qh, const uint8_t* sc,
                                            const int8_t* qa) {
  const __m256i nib = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  __m256i hbits = _mm256_setzero_si256();
  if constexpr (kFifthBit) hbits = load32(qh);
  __m256i sumi = _mm256_setzero_si256();
  for (int k = 0; k < 4; ++k) {
    const __m256i q = load32(qs + 32 * k);
    __m256i lo = _mm256_and_si256(q, nib);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nib);
    if constexpr (kFifthBit) {
      const __m256i b0 = _mm256_and_si256(_mm256_srli_epi16(hbits, 2 * k), one);
      const __m256i b1 = _mm256_and_si256(_mm256_srli_epi16(hbits, 2 * k + 1), one);
      lo = _mm256_or_si256(lo, _mm256_slli_epi16(b0, 4));
      hi = _mm256_or_si256(hi, _mm256_slli_epi16(b1, 4));
    }
    sumi = _mm256_add_epi32(sumi, sub_dot(lo, qa + 64 * k, sc[2 * k]));
    sumi = _mm256_add_epi32(sumi, sub_dot(hi, qa + 64 * k + 32, sc[2 * k + 1]));
  }
  return sumi;
}

template <bool kFifthBit, class Block>
MINIMA_AVX2 static inline float dot_4k5k(const Block* x, const BlockQ8_K* y, int64_t nb) {
  __m256 acc = _mm256_setzero_ps();
  float mins = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    uint8_t sc[8], m[8];
    minima::quant::unpack_scales_q4k_words(x[i].scales, sc, m);
    const uint8_t* qh = nullptr;
    if constexpr (kFifthBit) qh = x[i].qh;
    const __m256i sumi = sums_4k5k<kFifthBit>(x[i].qs, qh, sc, y[i].qs);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * half(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    mins += (y[i].d * half(x[i].dmin)) * float(mins_dot(m, y[i].bsums));
  }
  return hsum(acc) - mins;
}

// Scale pair selector (see avx2_kquant.cpp): int16 lanes picking byte 2g / 2g+1 into the high
// half; an arithmetic shift sign-extends it.
MINIMA_AVX2 static inline __m256i first_pair() {
  return _mm256_set_m128i(_mm_set1_epi16(0x0180), _mm_set1_epi16(0x0080));
}
MINIMA_AVX2 static inline __m256i next_pair(__m256i sel) {
  return _mm256_add_epi16(sel, _mm256_set1_epi16(0x0200));
}
MINIMA_AVX2 static inline __m256i scale_pair(__m256i scales, __m256i sel) {
  return _mm256_srai_epi16(_mm256_shuffle_epi8(scales, sel), 8);
}

// 8 unsigned bytes -> 8 floats.
MINIMA_AVX2 static inline __m256 widen_u8(const uint8_t* p) {
  return _mm256_cvtepi32_ps(
      _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

}  // namespace

MINIMA_AVX2 float dot_q4_k(const void* w, const void* a, int64_t n) {
  return dot_4k5k<false>(static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a),
                         n / QK_K);
}

MINIMA_AVX2 float dot_q5_k(const void* w, const void* a, int64_t n) {
  return dot_4k5k<true>(static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(a),
                        n / QK_K);
}

MINIMA_AVX2 float dot_q6_k(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i nib = _mm256_set1_epi8(0x0F), two_bits = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m256i offset =
        _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8),
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums)));
    __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(offset, 5));
    const __m256i scales = _mm256_broadcastsi128_si256(sc8);
    __m256i sel = first_pair();
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load32(x[i].ql + 64 * h), ql1 = load32(x[i].ql + 64 * h + 32);
      const __m256i qh = load32(x[i].qh + 32 * h);
      __m256i u[4];
      u[0] = _mm256_and_si256(ql0, nib);
      u[1] = _mm256_and_si256(ql1, nib);
      u[2] = _mm256_and_si256(_mm256_srli_epi16(ql0, 4), nib);
      u[3] = _mm256_and_si256(_mm256_srli_epi16(ql1, 4), nib);
      for (int g = 0; g < 4; ++g) {
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), two_bits);
        const __m256i code = _mm256_or_si256(u[g], _mm256_slli_epi16(high, 4));
        const __m256i p = _mm256_maddubs_epi16(code, load32(y[i].qs + 128 * h + 32 * g));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale_pair(scales, sel)));
        sel = next_pair(sel);
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * half(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

MINIMA_AVX2 void dequantize_q4_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    uint8_t sc[8], m[8];
    minima::quant::unpack_scales_q4k_words(b[i].scales, sc, m);
    const float d = half(b[i].d), dmin = half(b[i].dmin);
    for (int k = 0; k < 4; ++k) {
      alignas(32) uint8_t codes[64];
      const __m256i q = load32(b[i].qs + 32 * k), nib = _mm256_set1_epi8(0x0F);
      _mm256_store_si256(reinterpret_cast<__m256i*>(codes), _mm256_and_si256(q, nib));
      _mm256_store_si256(reinterpret_cast<__m256i*>(codes + 32),
                         _mm256_and_si256(_mm256_srli_epi16(q, 4), nib));
      for (int s = 0; s < 2; ++s) {
        const __m256 dl = _mm256_set1_ps(d * float(sc[2 * k + s]));
        const __m256 ml = _mm256_set1_ps(dmin * float(m[2 * k + s]));
        for (int l = 0; l < 32; l += 8) {
          const __m256 v = _mm256_sub_ps(_mm256_mul_ps(dl, widen_u8(codes + 32 * s + l)), ml);
          _mm256_storeu_ps(dst + 64 * k + 32 * s + l, v);
        }
      }
    }
  }
}

MINIMA_AVX2 void dequantize_q6_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  const __m256i nib = _mm256_set1_epi8(0x0F), two_bits = _mm256_set1_epi8(3);
  const __m256i bias = _mm256_set1_epi8(32);
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    const float d = half(b[i].d);
    alignas(32) int8_t q[QK_K];  // element order
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load32(b[i].ql + 64 * h), ql1 = load32(b[i].ql + 64 * h + 32);
      const __m256i qh = load32(b[i].qh + 32 * h);
      const __m256i low[4] = {_mm256_and_si256(ql0, nib), _mm256_and_si256(ql1, nib),
                              _mm256_and_si256(_mm256_srli_epi16(ql0, 4), nib),
                              _mm256_and_si256(_mm256_srli_epi16(ql1, 4), nib)};
      for (int g = 0; g < 4; ++g) {
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), two_bits);
        const __m256i code = _mm256_or_si256(low[g], _mm256_slli_epi16(high, 4));
        _mm256_store_si256(reinterpret_cast<__m256i*>(q + 128 * h + 32 * g),
                           _mm256_sub_epi8(code, bias));
      }
    }
    for (int s = 0; s < 16; ++s) {
      const __m256 dl = _mm256_set1_ps(d * float(b[i].scales[s]));
      for (int l = 16 * s; l < 16 * s + 16; l += 8) {
        const __m128i q8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + l));
        _mm256_storeu_ps(dst + l, _mm256_mul_ps(dl, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8))));
      }
    }
  }
}

}  // namespace minima::avx2

#endif  // MINIMA_HAVE_AVX2_KERNELS
