// AVX-512 microkernel of the F32 prefill GEMM (contract: gemm_tile_ref in core/gemm.hpp; blocking:
// core/gemm.hpp).
//
// A panel's 16 rows at one k are one zmm, so a tile of NP panels × MT tokens keeps NP·MT
// accumulators (2 × 12 = 24 of the 32 registers) and, per k, loads NP panel vectors and broadcasts
// MT activations for NP·MT FMAs: 14 loads per 24 FMAs keeps both FMA ports busy. Each output
// element is one fused chain in increasing k, so the bits equal the AVX2 kernel's.
#include "core/kernels/avx512.hpp"

#ifdef MINIMA_HAVE_AVX512_KERNELS

#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start some conversions from _mm512_undefined_*(), which it then
// reports as "(may be) used uninitialized" once inlined here (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <algorithm>
#include <cstring>

#include "core/gemm.hpp"

namespace minima::avx512 {
namespace {

constexpr int64_t kP = kGemmPanelRows;
constexpr int kTokens = 12;      // tokens per register tile
constexpr int64_t kChunk = 256;  // k per copied activation block (12 KiB)
static_assert(kP == 16, "a panel row is one zmm");

template <int NP, int MT>
MINIMA_AVX512 static inline void tile(const float* panel, int64_t panel_floats, int64_t kc,
                                      const float* xp, float* y, int64_t ldy, bool accumulate) {
  __m512 c[NP][MT];
#pragma GCC unroll 12
  for (int t = 0; t < MT; ++t) {
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p)
      c[p][t] = accumulate ? _mm512_loadu_ps(y + t * ldy + p * kP) : _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    __m512 w[NP];
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p) w[p] = _mm512_loadu_ps(panel + p * panel_floats + kP * k);
#pragma GCC unroll 12
    for (int t = 0; t < MT; ++t) {
      const __m512 b = _mm512_set1_ps(xp[kChunk * t + k]);
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p) c[p][t] = _mm512_fmadd_ps(w[p], b, c[p][t]);
    }
  }
#pragma GCC unroll 12
  for (int t = 0; t < MT; ++t) {
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p) _mm512_storeu_ps(y + t * ldy + p * kP, c[p][t]);
  }
}

// MT tokens at x / y against every panel, k in chunks whose activations are first copied into a
// small L1-resident block (read in place, rows K floats apart alias in L1). A chunk boundary
// stores the partial sums to y and reloads them: exact, so each element stays one chain.
template <int MT>
MINIMA_AVX512 static void tokens(const float* panels, int64_t n_panels, int64_t kc, const float* x,
                                 int64_t ldx, float* y, int64_t ldy, bool accumulate) {
  alignas(64) float xp[kTokens * kChunk];
  const int64_t pf = kc * kP;  // floats per panel
  for (int64_t k0 = 0; k0 < kc; k0 += kChunk) {
    const int64_t n = std::min(kChunk, kc - k0);
    for (int t = 0; t < MT; ++t)
      std::memcpy(xp + kChunk * t, x + t * ldx + k0, sizeof(float) * size_t(n));
    const bool acc = accumulate || k0 > 0;
    int64_t p = 0;
    for (; p + 2 <= n_panels; p += 2)
      tile<2, MT>(panels + p * pf + k0 * kP, pf, n, xp, y + p * kP, ldy, acc);
    for (; p < n_panels; ++p)
      tile<1, MT>(panels + p * pf + k0 * kP, pf, n, xp, y + p * kP, ldy, acc);
  }
}

using TokensFn = void (*)(const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t,
                          bool);

}  // namespace

MINIMA_AVX512 void gemm_tile(const float* panels, int64_t n_panels, int64_t kc, const float* x,
                             int64_t ldx, int64_t n_tok, float* y, int64_t ldy, bool accumulate) {
  static constexpr TokensFn kFns[] = {nullptr,    tokens<1>,  tokens<2>, tokens<3>, tokens<4>,
                                      tokens<5>,  tokens<6>,  tokens<7>, tokens<8>, tokens<9>,
                                      tokens<10>, tokens<11>, tokens<12>};
  for (int64_t t = 0; t < n_tok; t += kTokens) {
    const int64_t mt = std::min<int64_t>(kTokens, n_tok - t);
    kFns[mt](panels, n_panels, kc, x + t * ldx, ldx, y + t * ldy, ldy, accumulate);
  }
}

}  // namespace minima::avx512

#endif  // MINIMA_HAVE_AVX512_KERNELS
