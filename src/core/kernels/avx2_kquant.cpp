// AVX2 kernels for Q8_K activations and the Q2_K / Q3_K weight formats (layouts:
// core/quant/kquant_ref.cpp).
//
// Dots work on 32 elements at a time: the unsigned weight codes (0..3 for Q2_K, 0..7 for Q3_K,
// i.e. q + 4) meet the Q8_K bytes in _mm256_maddubs_epi16, whose 16 int16 results split as
// elements 0..15 (low 128-bit lane) and 16..31 (high lane) — exactly two 16-element sub-blocks —
// so one _mm256_madd_epi16 against (scale_a ×8 | scale_b ×8) applies both sub-block scales and
// widens to int32. All integer sums are exact (bounds in each function); floats only enter once
// per 256-element block. Terms that need Σ q_a per sub-block (Q2_K mins, Q3_K's −4 offset) come
// from the Q8_K bsums.
#include "core/kernels/avx2.hpp"

#ifdef MINIMA_HAVE_AVX2_KERNELS

#include <immintrin.h>

#include <cmath>
#include <cstring>

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

MINIMA_AVX2 static inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

MINIMA_AVX2 static inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

MINIMA_AVX2 static inline float half(uint16_t h) {
  return _cvtsh_ss(h);
}

MINIMA_AVX2 static inline __m256i load32(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Scales are 16 bytes copied into both 128-bit lanes. Selector for scale pair g: int16 lanes whose
// high byte picks byte 2g (low 128-bit lane) or 2g+1 (high lane) and whose low byte is zeroed
// (index 0x80); advance with next_pair.
MINIMA_AVX2 static inline __m256i first_pair() {
  return _mm256_set_m128i(_mm_set1_epi16(0x0180), _mm_set1_epi16(0x0080));
}
MINIMA_AVX2 static inline __m256i next_pair(__m256i sel) {
  return _mm256_add_epi16(sel, _mm256_set1_epi16(0x0200));
}
// (scale[2g] ×8 | scale[2g+1] ×8) as sign-extended int16: the byte lands in the high half and an
// arithmetic shift brings it down.
MINIMA_AVX2 static inline __m256i scale_pair(__m256i scales, __m256i sel) {
  return _mm256_srai_epi16(_mm256_shuffle_epi8(scales, sel), 8);
}

// Σ over one 32-element group: two 16-element sub-blocks, each scaled, as eight int32 sums.
MINIMA_AVX2 static inline __m256i group_dot(__m256i u, const int8_t* qa, __m256i scales16) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, load32(qa)), scales16);
}

MINIMA_AVX2 static inline __m256i load_bsums(const int16_t* bsums) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums));
}

}  // namespace

// Bit-identical to the reference: the same max search (first largest |x|), the same iscale, the
// same product and round-to-nearest-even (cvtps uses the FPU's rounding mode, as nearbyint does).
MINIMA_AVX2 void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_K*>(dst);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    __m256 vmax = _mm256_setzero_ps();
    for (int k = 0; k < QK_K; k += 8) {
      vmax = _mm256_max_ps(vmax, _mm256_and_ps(_mm256_loadu_ps(src + k), abs_mask));
    }
    const float amax = hmax(vmax);
    if (amax == 0.0f) {
      std::memset(&b[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    float mx = 0.0f;
    for (int l = 0; l < QK_K; ++l) {
      if (std::fabs(src[l]) == amax) {
        mx = src[l];
        break;
      }
    }
    const float iscale = -127.0f / mx;
    const __m256 vs = _mm256_set1_ps(iscale);
    for (int k = 0; k < QK_K; k += 32) {
      __m256i q[4];
      for (int j = 0; j < 4; ++j) {
        const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(src + k + 8 * j), vs);
        q[j] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi));
      }
      b[i].bsums[k / 16] = int16_t(hsum_i32(_mm256_add_epi32(q[0], q[1])));
      b[i].bsums[k / 16 + 1] = int16_t(hsum_i32(_mm256_add_epi32(q[2], q[3])));
      const __m256i p8 =
          _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs + k),
                          _mm256_permutevar8x32_epi32(p8, order));
    }
    b[i].d = 1.0f / iscale;
  }
}

// Per block: |Σ| ≤ 256 · 15 · 3 · 127 < 2^31; maddubs pairs ≤ 2 · 3 · 127.
MINIMA_AVX2 float dot_q2_k(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i three = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m128i nib = _mm_set1_epi8(0x0F);
    // Mins: Σ_s m_s · bsum_s.
    const __m256i m16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), nib));
    const int summ = hsum_i32(_mm256_madd_epi16(m16, load_bsums(y[i].bsums)));
    const __m256i scales = _mm256_broadcastsi128_si256(_mm_and_si128(packed, nib));
    __m256i sel = first_pair();
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = load32(x[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        const __m256i u = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * j), three);
        const int8_t* qa = y[i].qs + 128 * h + 32 * j;
        sumi = _mm256_add_epi32(sumi, group_dot(u, qa, scale_pair(scales, sel)));
        sel = next_pair(sel);
      }
    }
    const float dy = y[i].d;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(dy * half(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    mins += (dy * half(x[i].dmin)) * float(summ);
  }
  return hsum(acc) - mins;
}

// Codes u = q + 4 in 0..7, so Σ sc·q·q_a = Σ sc·u·q_a − 4 Σ sc·bsum. Pairs ≤ 2 · 7 · 127.
MINIMA_AVX2 float dot_q3_k(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    alignas(16) uint8_t codes[16];
    minima::quant::unpack_scales_q3k_words(x[i].scales, codes);
    const __m128i sc8 =
        _mm_sub_epi8(_mm_load_si128(reinterpret_cast<const __m128i*>(codes)), _mm_set1_epi8(32));
    const __m256i offset = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), load_bsums(y[i].bsums));
    __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(offset, 2));
    const __m256i scales = _mm256_broadcastsi128_si256(sc8);
    const __m256i hm = load32(x[i].hmask);
    __m256i sel = first_pair();
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = load32(x[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * j), three);
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + j), one);
        const __m256i u = _mm256_or_si256(low, _mm256_slli_epi16(high, 2));
        const int8_t* qa = y[i].qs + 128 * h + 32 * j;
        sumi = _mm256_add_epi32(sumi, group_dot(u, qa, scale_pair(scales, sel)));
        sel = next_pair(sel);
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * half(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

}  // namespace minima::avx2

#endif  // MINIMA_HAVE_AVX2_KERNELS
