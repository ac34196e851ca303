// AVX2 kernels for the 32-element block formats (layouts: core/quant/legacy_ref.cpp).
//
// Dots: per block, 32 weight bytes and 32 activation bytes meet in _mm256_maddubs_epi16 (unsigned
// × signed bytes, adjacent pairs summed to int16) and _mm256_madd_epi16 against ones (pairs of
// int16 to int32), so the block's integer sum is exact, then it is scaled in float and
// accumulated with FMA across blocks. Signed weights use the sign trick: |w| as the unsigned
// operand and sign(w)·a as the signed one. Int16 saturation cannot happen as long as activations
// stay in [−127, 127] (what every activation quantizer here produces): a pair is at most
// 2·128·127 = 32512 < 32767.
//
// Quantizers and dequantizers are bit-identical to the references: the same float operations in
// the same order, with round-half-away-from-zero built from truncation (exact for |v| ≤ 127).
#include "core/kernels/avx2.hpp"

#ifdef MINIMA_HAVE_AVX2_KERNELS

#include <immintrin.h>

#include <cstring>

#include "core/fp16.hpp"
#include "core/quant/types.hpp"

namespace minima::avx2 {
namespace {

MINIMA_AVX2 static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

MINIMA_AVX2 static inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

MINIMA_AVX2 static inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

MINIMA_AVX2 static inline float half(uint16_t h) {
  return _cvtsh_ss(h);
}

// 16 bytes of nibbles -> 32 bytes in element order (low nibbles, then high nibbles).
MINIMA_AVX2 static inline __m256i nibbles(const uint8_t* qs) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// qh (little-endian uint32) -> byte j = 0x10 if bit j is set, else 0.
MINIMA_AVX2 static inline __m256i fifth_bits(const uint8_t* qh) {
  uint32_t h;
  std::memcpy(&h, qh, 4);
  // Byte j of the result looks at byte j/8 of h (shuffles stay in 128-bit lanes, and each lane
  // holds all four bytes of h), then tests bit j%8 of it.
  const __m256i select = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                           0x0101010101010101, 0x0000000000000000);
  const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(int(h)), select);
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// Σ of 32 products of signed bytes, as eight int32 partial sums.
MINIMA_AVX2 static inline __m256i dot_i8(__m256i x, __m256i y) {
  const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
  return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

// Σ of 32 products of unsigned x (< 128) and signed y bytes, as eight int32 partial sums.
MINIMA_AVX2 static inline __m256i dot_u8(__m256i x, __m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
}

MINIMA_AVX2 static inline __m256i load32(const int8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Round half away from zero of values already clamped to [−127, 127]: v − trunc(v) is exact.
MINIMA_AVX2 static inline __m256i round_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
  const __m256 frac = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, t));
  const __m256 tie_or_more = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 step = _mm256_and_ps(tie_or_more, _mm256_or_ps(sign, _mm256_set1_ps(1.0f)));
  return _mm256_cvttps_epi32(_mm256_add_ps(t, step));
}

// Quantizes 32 floats like the Q8_0 reference; returns the float scale d, writes the quants and
// (via sum) Σq.
MINIMA_AVX2 static inline float quantize_block_q8(const float* x, int8_t* qs, int* sum) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(amax, _mm256_and_ps(v[k], abs_mask));
  }
  const float d = hmax(amax) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const __m256 vid = _mm256_set1_ps(id);
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  __m256i q[4];
  for (int k = 0; k < 4; ++k) {
    const __m256 s = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(v[k], vid), lo), hi);
    q[k] = round_away(s);
  }
  *sum = hsum_i32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
  // Packing interleaves 128-bit lanes; the final permute restores element order.
  const __m256i p16a = _mm256_packs_epi32(q[0], q[1]), p16b = _mm256_packs_epi32(q[2], q[3]);
  const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), _mm256_permutevar8x32_epi32(p8, order));
  return d;
}

// 8 int8 -> 8 floats.
MINIMA_AVX2 static inline __m256 widen8(__m128i bytes8) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes8));
}

MINIMA_AVX2 static inline void store_scaled(__m256i q, float d, float* dst) {
  const __m256 vd = _mm256_set1_ps(d);
  const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
  _mm256_storeu_ps(dst + 0, _mm256_mul_ps(vd, widen8(lo)));
  _mm256_storeu_ps(dst + 8, _mm256_mul_ps(vd, widen8(_mm_srli_si128(lo, 8))));
  _mm256_storeu_ps(dst + 16, _mm256_mul_ps(vd, widen8(hi)));
  _mm256_storeu_ps(dst + 24, _mm256_mul_ps(vd, widen8(_mm_srli_si128(hi, 8))));
}

}  // namespace

MINIMA_AVX2 void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / QK8_0; ++i) {
    int sum;
    b[i].d = fp32_to_fp16(quantize_block_q8(src + i * QK8_0, b[i].qs, &sum));
  }
}

MINIMA_AVX2 void quantize_q8_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / QK8_1; ++i) {
    int sum;
    const float d = quantize_block_q8(src + i * QK8_1, b[i].qs, &sum);
    b[i].d = fp32_to_fp16(d);
    b[i].s = fp32_to_fp16(d * float(sum));
  }
}

MINIMA_AVX2 void dequantize_q8_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / QK8_0; ++i) store_scaled(load32(b[i].qs), half(b[i].d), dst + 32 * i);
}

MINIMA_AVX2 void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / QK4_0; ++i) {
    const __m256i q = _mm256_sub_epi8(nibbles(b[i].qs), _mm256_set1_epi8(8));
    store_scaled(q, half(b[i].d), dst + 32 * i);
  }
}

namespace {

// Per-block terms: each returns acc + (d_w·d_a)·(the block's exact integer dot) and adds the
// block's min term, if the format has one, to *mins.
MINIMA_AVX2 static inline __m256 scaled(uint16_t dw, uint16_t da, __m256i sums, __m256 acc) {
  return _mm256_fmadd_ps(_mm256_set1_ps(half(dw) * half(da)), _mm256_cvtepi32_ps(sums), acc);
}

MINIMA_AVX2 static inline __m256 term_q8_0(const BlockQ8_0& x, const BlockQ8_0& y, __m256 acc,
                                           float*) {
  return scaled(x.d, y.d, dot_i8(load32(x.qs), load32(y.qs)), acc);
}

MINIMA_AVX2 static inline __m256 term_q4_0(const BlockQ4_0& x, const BlockQ8_0& y, __m256 acc,
                                           float*) {
  const __m256i q = _mm256_sub_epi8(nibbles(x.qs), _mm256_set1_epi8(8));
  return scaled(x.d, y.d, dot_i8(q, load32(y.qs)), acc);
}

MINIMA_AVX2 static inline __m256 term_q5_0(const BlockQ5_0& x, const BlockQ8_0& y, __m256 acc,
                                           float*) {
  const __m256i u = _mm256_or_si256(nibbles(x.qs), fifth_bits(x.qh));
  return scaled(x.d, y.d, dot_i8(_mm256_sub_epi8(u, _mm256_set1_epi8(16)), load32(y.qs)), acc);
}

// Q4_1 / Q5_1: the weight minimum meets the activation's s = d·Σq once per block.
MINIMA_AVX2 static inline __m256 term_q4_1(const BlockQ4_1& x, const BlockQ8_1& y, __m256 acc,
                                           float* mins) {
  *mins += half(x.m) * half(y.s);
  return scaled(x.d, y.d, dot_u8(nibbles(x.qs), load32(y.qs)), acc);
}

MINIMA_AVX2 static inline __m256 term_q5_1(const BlockQ5_1& x, const BlockQ8_1& y, __m256 acc,
                                           float* mins) {
  *mins += half(x.m) * half(y.s);
  const __m256i u = _mm256_or_si256(nibbles(x.qs), fifth_bits(x.qh));
  return scaled(x.d, y.d, dot_u8(u, load32(y.qs)), acc);
}

// Two independent accumulators (even / odd blocks) keep two FMA chains in flight.
template <class W, class A, __m256 (*Term)(const W&, const A&, __m256, float*)>
MINIMA_AVX2 static inline float block_loop(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const W*>(w);
  const auto* y = static_cast<const A*>(a);
  const int64_t nb = n / 32;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  float mins0 = 0.0f, mins1 = 0.0f;
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    acc0 = Term(x[i], y[i], acc0, &mins0);
    acc1 = Term(x[i + 1], y[i + 1], acc1, &mins1);
  }
  if (i < nb) acc0 = Term(x[i], y[i], acc0, &mins0);
  return hsum(_mm256_add_ps(acc0, acc1)) + (mins0 + mins1);
}

}  // namespace

MINIMA_AVX2 float dot_q8_0(const void* w, const void* a, int64_t n) {
  return block_loop<BlockQ8_0, BlockQ8_0, term_q8_0>(w, a, n);
}

MINIMA_AVX2 float dot_q4_0(const void* w, const void* a, int64_t n) {
  return block_loop<BlockQ4_0, BlockQ8_0, term_q4_0>(w, a, n);
}

MINIMA_AVX2 float dot_q5_0(const void* w, const void* a, int64_t n) {
  return block_loop<BlockQ5_0, BlockQ8_0, term_q5_0>(w, a, n);
}

MINIMA_AVX2 float dot_q4_1(const void* w, const void* a, int64_t n) {
  return block_loop<BlockQ4_1, BlockQ8_1, term_q4_1>(w, a, n);
}

MINIMA_AVX2 float dot_q5_1(const void* w, const void* a, int64_t n) {
  return block_loop<BlockQ5_1, BlockQ8_1, term_q5_1>(w, a, n);
}

}  // namespace minima::avx2

#endif  // MINIMA_HAVE_AVX2_KERNELS
