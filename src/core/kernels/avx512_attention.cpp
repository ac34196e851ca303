// AVX-512 attention tile (contract: core/attention.hpp). The query rows of a tile that see the
// same positions (in a forward pass: the query heads of one KV group, all at one token) are taken
// kRows at a time, so each key and value vector loaded serves kRows rows:
//   scores: per head-dimension index d, the 64 positions' keys are 4 zmm (transposed key blocks:
//     16 consecutive positions per vector) and each row broadcasts q[d]: 4 loads + kRows
//     broadcasts per 4·kRows FMAs;
//   values: per position j, its value row is hdv / 16 zmm and each row broadcasts its weight.
// Rows with a limit of their own (a tile whose rows end at different positions) go one at a time
// through the same code. Accuracy: the same operations as the AVX2 kernel (float FMA dots, the
// same exp polynomial, online rescaling per 64 positions), so the same error bound holds.
#include "core/kernels/avx512.hpp"

#ifdef MINIMA_HAVE_AVX512_KERNELS

#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start some conversions from _mm512_undefined_*(), which it then
// reports as "(may be) used uninitialized" once inlined here (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <algorithm>
#include <cmath>

#include "core/attention.hpp"
#include "core/kernels/avx2.hpp"
#include "core/kernels/avx512_math.hpp"

namespace minima::avx512 {
namespace {

constexpr int kRows = 4;  // query rows per register tile
constexpr int kChunks = kAttnBlock / 16;
static_assert(kAttnBlock == 64, "a run of positions is four zmm of keys");

// out[i0 + r][d0 .. d0 + 16·NC) = alpha[r] · out + Σ_j w[r][j] · v(p0 + j), in registers.
template <int R, int NC>
MINIMA_AVX512 static inline void values(const AttentionTile& t, int64_t i0, int64_t p0, int64_t n,
                                        int64_t d0, const float* alpha, const float* w) {
  __m512 o[R][NC];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const __m512 va = _mm512_set1_ps(alpha[r]);
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c)
      o[r][c] = _mm512_mul_ps(va, _mm512_loadu_ps(t.out + (i0 + r) * t.out_stride + d0 + 16 * c));
  }
  for (int64_t j = 0; j < n; ++j) {
    const float* v = t.value_row(p0 + j) + d0;
    __m512 vv[NC];
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) vv[c] = _mm512_loadu_ps(v + 16 * c);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 wj = _mm512_set1_ps(w[r * kAttnBlock + j]);
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) o[r][c] = _mm512_fmadd_ps(wj, vv[c], o[r][c]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c)
      _mm512_storeu_ps(t.out + (i0 + r) * t.out_stride + d0 + 16 * c, o[r][c]);
}

// R rows starting at row i0, all seeing positions [0, limit), over the run [p0, p0 + n), n <= 64:
// scores, online softmax update of m / l, and the weighted values added to the outputs.
template <int R>
MINIMA_AVX512 static void rows_run(const AttentionTile& t, int64_t i0, int64_t p0, int64_t n,
                                   float* m, float* l, float* s) {
  const int64_t bs = t.block_size;
  // Key vectors of the run's 16-position chunks; chunks past n reuse chunk 0 (masked below), so
  // no address outside the sequence's blocks is formed.
  const float* kc[kChunks];
  for (int c = 0; c < kChunks; ++c) {
    const int64_t p = p0 + 16 * (16 * c < n ? c : 0);
    kc[c] = t.key_block(p) + p % bs;
  }
  // Fully unrolled so the R × 4 accumulators live in registers.
  __m512 acc[R][kChunks];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < kChunks; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int64_t d = 0; d < t.hd; ++d) {
    __m512 kv[kChunks];
#pragma GCC unroll 4
    for (int c = 0; c < kChunks; ++c) kv[c] = _mm512_loadu_ps(kc[c] + d * bs);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 qd = _mm512_set1_ps(t.q[(i0 + r) * t.q_stride + d]);
#pragma GCC unroll 4
      for (int c = 0; c < kChunks; ++c) acc[r][c] = _mm512_fmadd_ps(qd, kv[c], acc[r][c]);
    }
  }
  const __m512 scale = _mm512_set1_ps(t.scale), ninf = _mm512_set1_ps(-INFINITY);
  float alpha[R];
  for (int r = 0; r < R; ++r) {
    __m512 mx = ninf;
    for (int c = 0; c < kChunks; ++c) {
      const int64_t valid = std::clamp<int64_t>(n - 16 * c, 0, 16);
      const __mmask16 k = static_cast<__mmask16>((1u << valid) - 1u);
      acc[r][c] = _mm512_mask_mul_ps(ninf, k, acc[r][c], scale);
      mx = _mm512_max_ps(mx, acc[r][c]);
    }
    const float m_new = std::max(m[r], _mm512_reduce_max_ps(mx));
    alpha[r] = std::exp(m[r] - m_new);
    const __m512 vm = _mm512_set1_ps(m_new);
    __m512 sum = _mm512_setzero_ps();
    for (int c = 0; c < kChunks; ++c) {
      const __m512 e = exp_ps(_mm512_sub_ps(acc[r][c], vm));
      _mm512_storeu_ps(s + r * kAttnBlock + 16 * c, e);
      sum = _mm512_add_ps(sum, e);
    }
    l[r] = l[r] * alpha[r] + _mm512_reduce_add_ps(sum);
    m[r] = m_new;
  }
  for (int64_t d0 = 0; d0 < t.hdv; d0 += 64) {
    switch ((t.hdv - d0) / 16) {
      case 1:
        values<R, 1>(t, i0, p0, n, d0, alpha, s);
        break;
      case 2:
        values<R, 2>(t, i0, p0, n, d0, alpha, s);
        break;
      case 3:
        values<R, 3>(t, i0, p0, n, d0, alpha, s);
        break;
      default:
        values<R, 4>(t, i0, p0, n, d0, alpha, s);
        break;
    }
  }
}

// Rows [i0, i0 + R) over all their positions, then normalized.
template <int R>
MINIMA_AVX512 static void rows(const AttentionTile& t, int64_t i0, float* s) {
  const int64_t limit = t.limit[i0];
  float m[R], l[R];
  for (int r = 0; r < R; ++r) {
    m[r] = -INFINITY;
    l[r] = 0.0f;
    std::fill(t.out + (i0 + r) * t.out_stride, t.out + (i0 + r) * t.out_stride + t.hdv, 0.0f);
  }
  if (limit <= 0) return;
  for (int64_t p0 = 0; p0 < limit; p0 += kAttnBlock)
    rows_run<R>(t, i0, p0, std::min(kAttnBlock, limit - p0), m, l, s);
  for (int r = 0; r < R; ++r) {
    const __m512 inv = _mm512_set1_ps(1.0f / l[r]);
    float* o = t.out + (i0 + r) * t.out_stride;
    for (int64_t d = 0; d < t.hdv; d += 16)
      _mm512_storeu_ps(o + d, _mm512_mul_ps(inv, _mm512_loadu_ps(o + d)));
  }
}

}  // namespace

MINIMA_AVX512 void attention_tile(const AttentionTile& t, float* scratch) {
  // Shapes the 16-wide vectors do not tile (head sizes not a multiple of 16, pool blocks of 8)
  // take the AVX2 kernel, which handles every multiple of 8 (and falls back to the reference).
  if (t.hd % 16 != 0 || t.hdv % 16 != 0 || t.block_size % 16 != 0 ||
      kAttnBlock % t.block_size != 0) {
    avx2::attention_tile(t, scratch);
    return;
  }
  static_assert(kAttnScratchFloats >= kRows * kAttnBlock, "scores of kRows rows fit the scratch");
  for (int64_t i = 0; i < t.n_rows;) {
    int64_t same = 1;
    while (i + same < t.n_rows && same < kRows && t.limit[i + same] == t.limit[i]) ++same;
    switch (same) {
      case 4:
        rows<4>(t, i, scratch);
        break;
      case 3:
        rows<3>(t, i, scratch);
        break;
      case 2:
        rows<2>(t, i, scratch);
        break;
      default:
        rows<1>(t, i, scratch);
        break;
    }
    i += same;
  }
}

}  // namespace minima::avx512

#endif  // MINIMA_HAVE_AVX512_KERNELS
