// AVX2 float kernels: F32 / F16 / BF16 weight rows against F32 activations, and the F16 / BF16
// conversions. Dots keep four 8-lane FMA accumulators (32 elements per step, enough independent
// chains to hide FMA latency) and finish with a scalar tail for n not a multiple of 8. The
// conversions are bit-identical to core/fp16.hpp (F16C rounds to nearest-even like the reference).
#include "core/kernels/avx2.hpp"

#ifdef MINIMA_HAVE_AVX2_KERNELS

#include <immintrin.h>

#include "core/fp16.hpp"

namespace minima::avx2 {
namespace {

MINIMA_AVX2 static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

MINIMA_AVX2 static inline __m256 load_f16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

MINIMA_AVX2 static inline __m256 load_bf16(const uint16_t* p) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

MINIMA_AVX2 static inline __m256 load_f32(const float* p) {
  return _mm256_loadu_ps(p);
}

inline float as_is(float v) {
  return v;
}

// One body for the three weight types: Load widens 8 weights to 8 floats, Scalar one weight.
template <class W, __m256 (*Load)(const W*), float (*Scalar)(W)>
MINIMA_AVX2 static inline float float_dot(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const W*>(w);
  const auto* y = static_cast<const float*>(a);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    // Decode streams rows one after another: request the stream 2 KiB ahead (one or two lines per
    // 32 weights), more lines in flight than the hardware prefetcher keeps. Never faults.
    const char* ahead = reinterpret_cast<const char*>(x + i) + 2048;
    __asm__ volatile("prefetcht0 %0" : : "m"(*ahead));
    if constexpr (sizeof(W) == 4) __asm__ volatile("prefetcht0 %0" : : "m"(*(ahead + 64)));
    acc0 = _mm256_fmadd_ps(Load(x + i), _mm256_loadu_ps(y + i), acc0);
    acc1 = _mm256_fmadd_ps(Load(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(Load(x + i + 16), _mm256_loadu_ps(y + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(Load(x + i + 24), _mm256_loadu_ps(y + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(Load(x + i), _mm256_loadu_ps(y + i), acc0);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum += Scalar(x[i]) * y[i];
  return sum;
}

}  // namespace

MINIMA_AVX2 float dot_f32(const void* w, const void* a, int64_t n) {
  return float_dot<float, load_f32, as_is>(w, a, n);
}

MINIMA_AVX2 float dot_f16(const void* w, const void* a, int64_t n) {
  return float_dot<uint16_t, load_f16, fp16_to_fp32>(w, a, n);
}

MINIMA_AVX2 float dot_bf16(const void* w, const void* a, int64_t n) {
  return float_dot<uint16_t, load_bf16, bf16_to_fp32>(w, a, n);
}

MINIMA_AVX2 void dequantize_f16(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_f16(h + i));
  for (; i < n; ++i) dst[i] = fp16_to_fp32(h[i]);
}

MINIMA_AVX2 void dequantize_bf16(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_bf16(h + i));
  for (; i < n; ++i) dst[i] = bf16_to_fp32(h[i]);
}

MINIMA_AVX2 void quantize_f16(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i v = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i), v);
  }
  for (; i < n; ++i) h[i] = fp32_to_fp16(src[i]);
}

// Same integer rounding as fp32_to_bf16: add 0x7FFF plus the lowest kept bit, keep the top half;
// NaNs keep their top bits with the quiet bit forced.
MINIMA_AVX2 void quantize_bf16(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF), inf = _mm256_set1_epi32(0x7F800000);
  const __m256i bias = _mm256_set1_epi32(0x7FFF), one = _mm256_set1_epi32(1);
  const __m256i quiet = _mm256_set1_epi32(64);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i x = _mm256_castps_si256(_mm256_loadu_ps(src + i));
    const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), inf);
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(x, 16), one);
    const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(bias, odd)), 16);
    const __m256i nan = _mm256_or_si256(_mm256_srli_epi32(x, 16), quiet);
    const __m256i r = _mm256_blendv_epi8(rounded, nan, is_nan);
    // packus works per 128-bit lane: gather the two useful 64-bit halves.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i), _mm256_castsi256_si128(packed));
  }
  for (; i < n; ++i) h[i] = fp32_to_bf16(src[i]);
}

}  // namespace minima::avx2

#endif  // MINIMA_HAVE_AVX2_KERNELS
