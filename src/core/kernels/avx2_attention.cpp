// AVX2 attention tile (see core/attention.hpp): per query row and run of 64 positions, the
// scores are 8 vectors of 8 positions accumulated by broadcast-FMA over the head dimension
// (transposed keys, one pool block at a time), then masked, exponentiated with a vector exp, and
// the weighted sum of value rows is accumulated 8 floats at a time. Matches attention_tile_ref up
// to float rounding.
#include "core/kernels/avx2.hpp"

#ifdef MINIMA_HAVE_AVX2_KERNELS

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "core/attention.hpp"

namespace minima::avx2 {
namespace {

MINIMA_AVX2 static inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

MINIMA_AVX2 static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// e^x for float lanes: x = n·ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial (the classic
// Cephes expf coefficients), scaled by 2^n through the exponent bits. Relative error ~2 ulp on
// [-87, 88]; below -87 the result is 0 (so exp(-inf) = 0, which the masking relies on).
MINIMA_AVX2 static inline __m256 exp_ps(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.0f);
  const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, lo), _mm256_set1_ps(88.3762626647949f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n: n in [-126, 128) after the clamp; n = 128 only for x near 88.7, where 2^127 * 2 is used.
  const __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(126)), 23);
  p = _mm256_mul_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), _mm256_set1_ps(2.0f));
  return _mm256_andnot_ps(underflow, p);
}

// Scores of one row against positions [p0, p0 + 64): s[0..64) (lanes >= n set to -inf). The run
// is split at pool-block boundaries; every block is read in whole vectors of 8 (block_size is a
// multiple of 8), which stays inside the block.
MINIMA_AVX2 static inline void scores_block(const AttentionTile& t, const float* q, int64_t p0,
                                            int64_t n, float* s) {
  const int64_t chunks = (n + 7) / 8;
  __m256 acc[8];
  for (int c = 0; c < 8; ++c) acc[c] = _mm256_setzero_ps();
  const int64_t bs = t.block_size;
  for (int64_t c0 = 0; c0 < chunks; c0 += bs / 8) {  // one pool block at a time
    const int64_t p = p0 + 8 * c0;
    const float* kt = t.key_block(p) + p % bs;
    const int64_t nc = std::min<int64_t>(bs / 8, chunks - c0);
    if (nc == 8) {
      for (int64_t d = 0; d < t.hd; ++d) {
        const __m256 qd = _mm256_broadcast_ss(q + d);
        const float* row = kt + d * bs;
        for (int c = 0; c < 8; ++c)
          acc[c] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(row + 8 * c), acc[c]);
      }
    } else {
      for (int64_t d = 0; d < t.hd; ++d) {
        const __m256 qd = _mm256_broadcast_ss(q + d);
        const float* row = kt + d * bs;
        for (int64_t c = 0; c < nc; ++c)
          acc[c0 + c] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(row + 8 * c), acc[c0 + c]);
      }
    }
  }
  const __m256 scale = _mm256_set1_ps(t.scale), ninf = _mm256_set1_ps(-INFINITY);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int64_t c = 0; c < 8; ++c) {
    if (c >= chunks) {
      _mm256_storeu_ps(s + 8 * c, ninf);
      continue;
    }
    const __m256i idx = _mm256_add_epi32(lane, _mm256_set1_epi32(static_cast<int>(8 * c)));
    const __m256 valid =
        _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx));
    _mm256_storeu_ps(s + 8 * c, _mm256_blendv_ps(ninf, _mm256_mul_ps(acc[c], scale), valid));
  }
}

// o[0..hdv) = o * alpha + sum_j w[j] * v(p0 + j), in chunks of 64 floats held in registers.
MINIMA_AVX2 static inline void accumulate_values(const AttentionTile& t, int64_t p0, int64_t n,
                                                 const float* w, float alpha, float* o) {
  const __m256 va = _mm256_set1_ps(alpha);
  for (int64_t d0 = 0; d0 < t.hdv; d0 += 64) {
    const int64_t nc = std::min<int64_t>(8, (t.hdv - d0) / 8);
    __m256 acc[8];
    for (int64_t c = 0; c < nc; ++c) acc[c] = _mm256_mul_ps(va, _mm256_loadu_ps(o + d0 + 8 * c));
    for (int64_t j = 0; j < n; ++j) {
      const __m256 wj = _mm256_broadcast_ss(w + j);
      const float* v = t.value_row(p0 + j) + d0;
      for (int64_t c = 0; c < nc; ++c)
        acc[c] = _mm256_fmadd_ps(wj, _mm256_loadu_ps(v + 8 * c), acc[c]);
    }
    for (int64_t c = 0; c < nc; ++c) _mm256_storeu_ps(o + d0 + 8 * c, acc[c]);
  }
}

}  // namespace

MINIMA_AVX2 void attention_tile(const AttentionTile& t, float* scratch) {
  // Head sizes that are not a multiple of 8 (or odd pool blocks) take the reference path.
  if (t.hd % 8 != 0 || t.hdv % 8 != 0 || t.block_size % 8 != 0 || kAttnBlock % t.block_size != 0) {
    attention_tile_ref(t, scratch);
    return;
  }
  float* m = scratch;
  float* l = scratch + kAttnMaxRows;
  float* s = l + kAttnMaxRows;
  int64_t max_limit = 0;
  for (int64_t i = 0; i < t.n_rows; ++i) {
    m[i] = -INFINITY;
    l[i] = 0.0f;
    std::fill(t.out + i * t.out_stride, t.out + i * t.out_stride + t.hdv, 0.0f);
    max_limit = std::max(max_limit, t.limit[i]);
  }
  for (int64_t p0 = 0; p0 < max_limit; p0 += kAttnBlock) {
    for (int64_t i = 0; i < t.n_rows; ++i) {
      const int64_t n = std::min(kAttnBlock, t.limit[i] - p0);
      if (n <= 0) continue;
      scores_block(t, t.q + i * t.q_stride, p0, n, s);
      __m256 mx = _mm256_loadu_ps(s);
      for (int c = 1; c < 8; ++c) mx = _mm256_max_ps(mx, _mm256_loadu_ps(s + 8 * c));
      const float m_new = std::max(m[i], hmax(mx));
      const float alpha = std::exp(m[i] - m_new);
      const __m256 vm = _mm256_set1_ps(m_new);
      __m256 sum = _mm256_setzero_ps();
      for (int c = 0; c < 8; ++c) {
        const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(s + 8 * c), vm));
        _mm256_storeu_ps(s + 8 * c, e);
        sum = _mm256_add_ps(sum, e);
      }
      l[i] = l[i] * alpha + hsum(sum);
      accumulate_values(t, p0, n, s, alpha, t.out + i * t.out_stride);
      m[i] = m_new;
    }
  }
  for (int64_t i = 0; i < t.n_rows; ++i) {
    if (t.limit[i] <= 0) continue;
    const __m256 inv = _mm256_set1_ps(1.0f / l[i]);
    float* o = t.out + i * t.out_stride;
    for (int64_t d = 0; d < t.hdv; d += 8)
      _mm256_storeu_ps(o + d, _mm256_mul_ps(inv, _mm256_loadu_ps(o + d)));
  }
}

}  // namespace minima::avx2

#endif  // MINIMA_HAVE_AVX2_KERNELS
