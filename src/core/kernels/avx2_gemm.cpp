// AVX2 + FMA kernels of the prefill GEMM (contracts and blocking: core/gemm.hpp).
//
// Microkernel: 6 tokens × 16 weight rows in 12 ymm accumulators. Per k it loads the panel's two
// vectors (16 rows at that k), broadcasts x[t][k] for the 6 tokens and issues 12 FMAs: 8 loads
// per 12 FMAs keeps the two FMA pipes busy (Zen 3 / Skylake issue 2–3 loads per cycle), and 12
// independent chains cover the FMA latency (4 cycles × 2 pipes = 8 in flight). 16 ymm registers:
// 12 accumulators, 2 panel vectors, 1 broadcast. Each output element is one FMA chain in
// increasing k, so the result equals a sequential fused sum whatever the token grouping.
#include "core/kernels/avx2.hpp"

#ifdef MINIMA_HAVE_AVX2_KERNELS

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/gemm.hpp"

namespace minima::avx2 {
namespace {

constexpr int kTokens = 6;       // tokens per register tile
constexpr int64_t kChunk = 256;  // k per copied activation block (6 KiB)
constexpr int64_t kP = kGemmPanelRows;
static_assert(kP == 16, "the microkernel holds a panel row in two ymm registers");

// prefetcht0 as a volatile asm statement: GCC 12 treats _mm_prefetch as free of side effects, so
// a helper that only prefetches is found "const" and every call to it is deleted.
static inline void prefetch_line(const char* p) {
  __asm__ volatile("prefetcht0 %0" : : "m"(*p));
}

// y[t·ldy + 0..15] for t < MT: one 16-row panel times MT token rows; xp: [MT][kChunk], the
// first kc floats of each row used. pf: n_pf cache lines to prefetch, two every 16 k, so the
// requests trickle out while the FMAs run instead of stalling the loads in a burst.
template <int MT>
MINIMA_AVX2 static inline void tile(const float* panel, int64_t kc, const float* xp, float* y,
                                    int64_t ldy, bool accumulate, const char* const* pf,
                                    int64_t n_pf) {
  __m256 c0[MT], c1[MT];
#pragma GCC unroll 6
  for (int t = 0; t < MT; ++t) {
    c0[t] = accumulate ? _mm256_loadu_ps(y + t * ldy) : _mm256_setzero_ps();
    c1[t] = accumulate ? _mm256_loadu_ps(y + t * ldy + 8) : _mm256_setzero_ps();
  }
  int64_t i = 0;
  for (int64_t k = 0; k < kc;) {
    if (i < n_pf) prefetch_line(pf[i++]);
    if (i < n_pf) prefetch_line(pf[i++]);
    for (const int64_t end = std::min(kc, k + 16); k < end; ++k) {
      const __m256 a0 = _mm256_loadu_ps(panel + kP * k), a1 = _mm256_loadu_ps(panel + kP * k + 8);
#pragma GCC unroll 6
      for (int t = 0; t < MT; ++t) {
        const __m256 b = _mm256_broadcast_ss(xp + kChunk * t + k);
        c0[t] = _mm256_fmadd_ps(a0, b, c0[t]);
        c1[t] = _mm256_fmadd_ps(a1, b, c1[t]);
      }
    }
  }
  while (i < n_pf) prefetch_line(pf[i++]);
#pragma GCC unroll 6
  for (int t = 0; t < MT; ++t) {
    _mm256_storeu_ps(y + t * ldy, c0[t]);
    _mm256_storeu_ps(y + t * ldy + 8, c1[t]);
  }
}

// Where the tile after the current one reads: the activation rows it copies and its outputs.
struct Next {
  const float* x = nullptr;  // first of n_tok rows (ldx apart), at the k it starts from
  float* y = nullptr;        // first of n_tok output rows (ldy apart), at panel 0
  int64_t n_tok = 0;
};

// A block of rows: n rows of len floats, ld apart. Its cache lines are numbered row by row,
// len / 16 + 1 per row (enough for any alignment).
struct Rows {
  const float* p = nullptr;
  int64_t n = 0, ld = 0, len = 0;
  int64_t n_lines() const { return n * (len / 16 + 1); }
  // Appends the addresses of lines [i0, i1) to out.
  const char** lines(int64_t i0, int64_t i1, const char** out) const {
    const int64_t per_row = len / 16 + 1;
    for (int64_t i = i0; i < i1; ++i) {
      const auto row = reinterpret_cast<uintptr_t>(p + (i / per_row) * ld) & ~uintptr_t{63};
      *out++ = reinterpret_cast<const char*>(row + uintptr_t(i % per_row) * 64);
    }
    return out;
  }
};

// The MT tokens at x / y against every panel. Their activations are first copied into xp, a
// small L1-resident block: read in place, the MT rows (K floats apart, often a multiple of 4 KiB)
// fall into the same L1 sets and are evicted by the streaming panel, which costs ~15%.
// Activations and outputs usually come from L3 or DRAM (a prefill's x and y exceed L2), so each
// panel's call prefetches the outputs of the next panel, and a share of the activations of the
// next block: issued in small batches, spread over the panels, so they neither stall the loads
// nor arrive late.
template <int MT>
MINIMA_AVX2 static inline void tile_panels(const float* panels, int64_t n_panels, int64_t kc,
                                           const float* x, int64_t ldx, float* y, int64_t ldy,
                                           bool accumulate, Next next) {
  alignas(64) float xp[kTokens * kChunk];
  for (int64_t k0 = 0; k0 < kc; k0 += kChunk) {
    const int64_t n = std::min(kChunk, kc - k0);
    for (int t = 0; t < MT; ++t)
      std::memcpy(xp + kChunk * t, x + t * ldx + k0, sizeof(float) * size_t(n));
    // What runs after this chunk: the next chunk of these tokens, else the next tokens.
    const bool last_chunk = k0 + kChunk >= kc;
    const Rows next_x = !last_chunk
                            ? Rows{x + k0 + kChunk, MT, ldx, std::min(kChunk, kc - k0 - kChunk)}
                            : Rows{next.x, next.n_tok, ldx, std::min(kChunk, kc)};
    const Rows next_y = !last_chunk ? Rows{y, MT, ldy, kP} : Rows{next.y, next.n_tok, ldy, kP};
    // A chunk boundary stores the partial sums to y and reloads them: exact, so each element
    // stays one FMA chain in increasing k.
    const bool acc = accumulate || k0 > 0;
    const int64_t lines = next_x.n_lines();
    for (int64_t p = 0; p < n_panels; ++p) {
      // This panel's share of the next block's activations, and the next outputs.
      const char* pf[2 * kTokens + kTokens * (kChunk / 16 + 1)];
      const char** end = p + 1 < n_panels ? Rows{y + (p + 1) * kP, MT, ldy, kP}.lines(0, 2 * MT, pf)
                                          : next_y.lines(0, next_y.n_lines(), pf);
      end = next_x.lines(lines * p / n_panels, lines * (p + 1) / n_panels, end);
      tile<MT>(panels + p * kc * kP + k0 * kP, n, xp, y + p * kP, ldy, acc, pf, end - pf);
    }
  }
}

// In-register transpose: r[j] becomes column j of the 8×8 block whose rows were r[0..7].
MINIMA_AVX2 static inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // t[2i] = (r2i0 r2i+1,0 r2i1 r2i+1,1 | same for 4,5), t[2i+1] = elements 2,3 | 6,7.
  for (int i = 0; i < 2; ++i) {
    for (int h = 0; h < 2; ++h) {
      const __m256 a = t[4 * i + h], b = t[4 * i + 2 + h];
      u[4 * i + 2 * h] = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0));
      u[4 * i + 2 * h + 1] = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2));
    }
  }
  // u[0..3]: columns 0..3 of rows 0–3 (low lane: cols 0–3, high lane: cols 4–7); u[4..7]: rows 4–7.
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
    r[j + 4] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
  }
}

}  // namespace

MINIMA_AVX2 void gemm_pack(const float* rows, int64_t ld, int64_t kc, float* panel) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    for (int h = 0; h < 2; ++h) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(rows + (8 * h + i) * ld + k);
      transpose8(r);
      for (int j = 0; j < 8; ++j) _mm256_storeu_ps(panel + (k + j) * kP + 8 * h, r[j]);
    }
  }
  for (; k < kc; ++k) {
    for (int64_t i = 0; i < kP; ++i) panel[k * kP + i] = rows[i * ld + k];
  }
}

MINIMA_AVX2 void gemm_tile(const float* panels, int64_t n_panels, int64_t kc, const float* x,
                           int64_t ldx, int64_t n_tok, float* y, int64_t ldy, bool accumulate) {
  for (int64_t t = 0; t < n_tok; t += kTokens) {
    const int64_t mt = std::min<int64_t>(kTokens, n_tok - t), t1 = t + mt;
    const Next next{x + t1 * ldx, y + t1 * ldy, std::min<int64_t>(kTokens, n_tok - t1)};
    const float* xt = x + t * ldx;
    float* yt = y + t * ldy;
    switch (mt) {
      case 6:
        tile_panels<6>(panels, n_panels, kc, xt, ldx, yt, ldy, accumulate, next);
        break;
      case 5:
        tile_panels<5>(panels, n_panels, kc, xt, ldx, yt, ldy, accumulate, next);
        break;
      case 4:
        tile_panels<4>(panels, n_panels, kc, xt, ldx, yt, ldy, accumulate, next);
        break;
      case 3:
        tile_panels<3>(panels, n_panels, kc, xt, ldx, yt, ldy, accumulate, next);
        break;
      case 2:
        tile_panels<2>(panels, n_panels, kc, xt, ldx, yt, ldy, accumulate, next);
        break;
      default:
        tile_panels<1>(panels, n_panels, kc, xt, ldx, yt, ldy, accumulate, next);
        break;
    }
  }
}

}  // namespace minima::avx2

#endif
