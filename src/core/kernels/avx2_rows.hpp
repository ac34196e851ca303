// Shared pieces of the AVX2 multi-row dots (avx2_rows_*.cpp), internal to core/kernels and only
// included by translation units whose functions all carry MINIMA_AVX2. Everything here is
// `static inline` in an anonymous namespace, so no AVX2 body can be merged with a generic one.
//
// Rows are processed one after another, each from its first byte to its last: the thread's whole
// row range is then a single ascending stream, which the hardware prefetchers follow at full
// speed (walking several rows side by side makes as many interleaved streams and measured ~40%
// slower from DRAM). Work that depends only on the activation is done once per call, before the
// rows (prepared activations in the kernels).
//
// Block formats use "lanes are blocks": eight consecutive blocks of a row are processed together;
// their exact integer sums are reduced into one vector whose lane j is block j, converted to float
// once and multiplied by the eight blocks' scales, so the per-block float work is shared eightfold.
// Each row keeps eight float partial sums (lane j: blocks ≡ j mod 8) added in a fixed order at the
// end: a row's result depends only on that row and the activation.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/kernels/avx2.hpp"

// Helpers and per-group bodies: always inlined into the row loops (a call per group costs more
// than some of the bodies).
#define MINIMA_AVX2_INLINE MINIMA_AVX2 __attribute__((always_inline)) static inline

namespace minima::avx2 {
namespace {

MINIMA_AVX2_INLINE __m128i load16(const void* p) {
  return _mm_loadu_si128(static_cast<const __m128i*>(p));
}

MINIMA_AVX2_INLINE __m256i load32(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Every weight line is requested 4 KiB before it is used, with a non-temporal hint (the weights
// are read once per token). On Zen 5 this decoded TinyLlama Q4_K_M ~13% faster than a prefetch
// 1 KiB ahead into L1 plus 4 KiB ahead into L2 (which had measured ~3% faster than a single one
// 2 KiB ahead on Sapphire Rapids): one core's stream, not DRAM, is the limit, and the compute
// between loads leaves the hardware prefetcher behind.
inline constexpr size_t kPrefetchBytes = 4096;

// Volatile asm (GCC 12 treats _mm_prefetch as free of side effects and may delete it).
MINIMA_AVX2_INLINE void prefetch_ahead(const uint8_t* p) {
  __asm__ volatile("prefetchnta %0" : : "m"(*(p + kPrefetchBytes)));
}

// [16 bytes at lo | 16 bytes at hi]: two broadcast loads and a blend, which any vector pipe runs
// (an insert is restricted to the shuffle pipes).
MINIMA_AVX2_INLINE __m256i load_pair(const void* lo, const void* hi) {
  return _mm256_blend_epi32(_mm256_broadcastsi128_si256(load16(lo)),
                            _mm256_broadcastsi128_si256(load16(hi)), 0xF0);
}

MINIMA_AVX2_INLINE float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// A 16-bit field, kept in a general-purpose register (the empty asm stops the compiler from
// turning the packing below into a chain of vector shuffles).
inline uint64_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  uint64_t r = v;
  __asm__("" : "+r"(r));
  return r;
}

// The halves at p, p + stride, ..., p + 7·stride as eight floats: packed in general-purpose
// registers, then two vector inserts and one conversion.
MINIMA_AVX2_INLINE __m256 halves8(const uint8_t* p, size_t stride) {
  const uint64_t lo = load_u16(p) | load_u16(p + stride) << 16 | load_u16(p + 2 * stride) << 32 |
                      load_u16(p + 3 * stride) << 48;
  const uint8_t* q = p + 4 * stride;
  const uint64_t hi = load_u16(q) | load_u16(q + stride) << 16 | load_u16(q + 2 * stride) << 32 |
                      load_u16(q + 3 * stride) << 48;
  return _mm256_cvtph_ps(_mm_set_epi64x(static_cast<int64_t>(hi), static_cast<int64_t>(lo)));
}

// Eight int32 partial sums of block a and eight of block b -> [Σ a (4 lanes) | Σ b (4 lanes)].
MINIMA_AVX2_INLINE __m256i pair(__m256i a, __m256i b) {
  const __m256i same = _mm256_blend_epi32(a, b, 0xF0);          // [a.lo | b.hi]
  const __m256i cross = _mm256_permute2x128_si256(a, b, 0x21);  // [a.hi | b.lo]
  return _mm256_add_epi32(same, cross);
}

// p[k] = [block k partials (4 lanes) | block k+4 partials (4 lanes)] -> lane j = Σ block j.
MINIMA_AVX2_INLINE __m256i reduce_pairs(const __m256i p[4]) {
  const __m256i t01 = _mm256_add_epi32(_mm256_unpacklo_epi32(p[0], p[1]),
                                       _mm256_unpackhi_epi32(p[0], p[1]));  // [0 1 0 1 | 4 5 4 5]
  const __m256i t23 = _mm256_add_epi32(_mm256_unpacklo_epi32(p[2], p[3]),
                                       _mm256_unpackhi_epi32(p[2], p[3]));  // [2 3 2 3 | 6 7 6 7]
  return _mm256_add_epi32(_mm256_unpacklo_epi64(t01, t23), _mm256_unpackhi_epi64(t01, t23));
}

// Fallback for types without a multi-row kernel: the single-row dot, row by row.
template <VecDotFn Dot>
void rows_by_dot(const void* w, size_t stride, int64_t n_rows, const void* a, int64_t n,
                 float* out) {
  const auto* p = static_cast<const uint8_t*>(w);
  for (int64_t r = 0; r < n_rows; ++r) out[r] = Dot(p + static_cast<size_t>(r) * stride, a, n);
}

}  // namespace

// The multi-row dots (signature of DotRowsFn), put into the table by put_dot_rows.
void dot_rows_q4_0(const void* w, size_t stride, int64_t n_rows, const void* a, int64_t n,
                   float* out);
void dot_rows_q5_0(const void* w, size_t stride, int64_t n_rows, const void* a, int64_t n,
                   float* out);
void dot_rows_q8_0(const void* w, size_t stride, int64_t n_rows, const void* a, int64_t n,
                   float* out);
void dot_rows_multi_q4_0(const void* w, size_t stride, int64_t n_rows, const void* a,
                         size_t act_stride, int64_t n_tok, int64_t n, float* out, int64_t ldo);
void dot_rows_multi_q5_0(const void* w, size_t stride, int64_t n_rows, const void* a,
                         size_t act_stride, int64_t n_tok, int64_t n, float* out, int64_t ldo);
void dot_rows_multi_q8_0(const void* w, size_t stride, int64_t n_rows, const void* a,
                         size_t act_stride, int64_t n_tok, int64_t n, float* out, int64_t ldo);
void dot_rows_q4_k(const void* w, size_t stride, int64_t n_rows, const void* a, int64_t n,
                   float* out);
void dot_rows_q5_k(const void* w, size_t stride, int64_t n_rows, const void* a, int64_t n,
                   float* out);
void dot_rows_q6_k(const void* w, size_t stride, int64_t n_rows, const void* a, int64_t n,
                   float* out);

}  // namespace minima::avx2
