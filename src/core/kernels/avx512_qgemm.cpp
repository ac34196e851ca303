// AVX-512 VNNI kernels of the integer prefill GEMM (contracts and layouts: core/qgemm.hpp).
//
// Microkernel: NP panels (16 rows each) × MT tokens, NP·MT int32 block sums and NP·MT float
// accumulators in zmm registers (2 × 6 or 1 × 12: 24 accumulators, 27 of the 32 registers). Per
// block and 4-element group it loads one 64-byte line per panel and broadcasts 4 activation codes
// per token, then issues NP·MT vpdpbusd; per block it converts the sums and applies
// fl(d_w · d_x) with one FMA, as the contract says. Two panels per tile halve the activation
// broadcasts per vpdpbusd, which keeps the loads below the dot-product issue rate.
//
// Packing gathers one dword of codes from each of the 16 rows per group (rows are row_stride
// apart in the mapped file), which turns 16 row streams into the panel's 64-byte lines in one
// instruction; rows past n_rows are masked to zero codes and zero scales.
#include "core/kernels/avx512.hpp"

#ifdef MINIMA_HAVE_AVX512_KERNELS

#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start some conversions from _mm512_undefined_*(), which it then
// reports as "(may be) used uninitialized" once inlined here (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <algorithm>
#include <cstring>

#include "core/qgemm.hpp"
#include "core/quant/types.hpp"

namespace minima::avx512 {
namespace {

constexpr int64_t kP = kQgemmPanelRows;
constexpr int64_t kB = kQgemmBlockBytes;
static_assert(kP == 16, "a panel's 16 rows are the 16 int32 lanes of one zmm");

MINIMA_AVX512 static inline int32_t load_u32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

template <int NP, int MT>
MINIMA_AVX512 static inline void qtile(const uint8_t* panel, size_t panel_bytes, int64_t nb,
                                       const QActs& a, float* y, int64_t ldy, bool accumulate) {
  const int64_t ldb = a.k / kQgemmBlock;
  __m512 f[NP][MT];
#pragma GCC unroll 12
  for (int t = 0; t < MT; ++t) {
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p)
      f[p][t] = accumulate ? _mm512_loadu_ps(y + t * ldy + p * kP) : _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* pb = panel + b * kB;
    __m512i s[NP][MT];
#pragma GCC unroll 12
    for (int t = 0; t < MT; ++t) {
      const __m512i c = _mm512_set1_epi32(a.c[t * ldb + b]);
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p) s[p][t] = c;
    }
    const int8_t* qb = a.q + b * kQgemmBlock;
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      __m512i w[NP];
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p)
        w[p] = _mm512_load_si512(reinterpret_cast<const void*>(pb + p * panel_bytes + 64 * g));
#pragma GCC unroll 12
      for (int t = 0; t < MT; ++t) {
        const __m512i x = _mm512_set1_epi32(load_u32(qb + t * a.k + 4 * g));
#pragma GCC unroll 2
        for (int p = 0; p < NP; ++p) s[p][t] = _mm512_dpbusd_epi32(s[p][t], w[p], x);
      }
    }
    __m512 dw[NP];
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p)
      dw[p] = _mm512_load_ps(reinterpret_cast<const float*>(pb + p * panel_bytes + 512));
#pragma GCC unroll 12
    for (int t = 0; t < MT; ++t) {
      const __m512 dx = _mm512_set1_ps(a.d[t * ldb + b]);
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p)
        f[p][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[p][t]), _mm512_mul_ps(dw[p], dx), f[p][t]);
    }
  }
#pragma GCC unroll 12
  for (int t = 0; t < MT; ++t) {
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p) _mm512_storeu_ps(y + t * ldy + p * kP, f[p][t]);
  }
}

// MT tokens against every panel: pairs of panels, then a last single one.
template <int MT>
MINIMA_AVX512 static void token_group(const uint8_t* panels, int64_t n_panels, int64_t kc,
                                      const QActs& a, float* y, int64_t ldy, bool accumulate) {
  const int64_t nb = kc / kQgemmBlock;
  const size_t pbytes = size_t(nb) * size_t(kB);
  int64_t p = 0;
  if constexpr (2 * MT <= 12) {
    for (; p + 2 <= n_panels; p += 2)
      qtile<2, MT>(panels + size_t(p) * pbytes, pbytes, nb, a, y + p * kP, ldy, accumulate);
  }
  for (; p < n_panels; ++p)
    qtile<1, MT>(panels + size_t(p) * pbytes, pbytes, nb, a, y + p * kP, ldy, accumulate);
}

using GroupFn = void (*)(const uint8_t*, int64_t, int64_t, const QActs&, float*, int64_t, bool);

// Gather offsets of the 16 rows and the mask of those that exist.
struct Rows16 {
  __m512i offsets;
  __mmask16 valid;
};

MINIMA_AVX512 static inline Rows16 rows16(size_t row_stride, int64_t n_rows) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __mmask16 valid = static_cast<__mmask16>((1u << std::min<int64_t>(n_rows, 16)) - 1u);
  // Only valid lanes are gathered, so the offsets of the others never form an address.
  return {_mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(row_stride))), valid};
}

MINIMA_AVX512 static inline __m512i gather(const Rows16& r, const uint8_t* base) {
  return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), r.valid, r.offsets, base, 1);
}

MINIMA_AVX512 static inline void store_scales(const Rows16& r, const uint8_t* base, uint8_t* out) {
  const __m512i h = gather(r, base);  // low 16 bits: the fp16 scale
  _mm512_store_ps(reinterpret_cast<float*>(out + 512), _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h)));
}

}  // namespace

MINIMA_AVX512 void qgemm_pack_q4_0(const void* rows, size_t row_stride, int64_t n_rows, int64_t kc,
                                   uint8_t* panel) {
  const Rows16 r = rows16(row_stride, n_rows);
  const __m512i lo = _mm512_set1_epi8(0x0F);
  const auto* src = static_cast<const uint8_t*>(rows);
  for (int64_t b = 0; b < kc / kQgemmBlock; ++b) {
    const uint8_t* blk = src + b * int64_t(sizeof(BlockQ4_0));
    uint8_t* out = panel + b * kB;
    for (int g = 0; g < 4; ++g) {
      const __m512i v = gather(r, blk + 2 + 4 * g);
      _mm512_store_si512(out + 64 * g, _mm512_and_si512(v, lo));
      _mm512_store_si512(out + 64 * (g + 4), _mm512_and_si512(_mm512_srli_epi16(v, 4), lo));
    }
    store_scales(r, blk, out);
  }
}

MINIMA_AVX512 void qgemm_pack_q8_0(const void* rows, size_t row_stride, int64_t n_rows, int64_t kc,
                                   uint8_t* panel) {
  const Rows16 r = rows16(row_stride, n_rows);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const auto* src = static_cast<const uint8_t*>(rows);
  for (int64_t b = 0; b < kc / kQgemmBlock; ++b) {
    const uint8_t* blk = src + b * int64_t(sizeof(BlockQ8_0));
    uint8_t* out = panel + b * kB;
    for (int g = 0; g < 8; ++g) {
      const __m512i v = gather(r, blk + 2 + 4 * g);
      _mm512_store_si512(out + 64 * g,
                         _mm512_mask_xor_epi32(_mm512_setzero_si512(), r.valid, v, flip));
    }
    store_scales(r, blk, out);
  }
}

MINIMA_AVX512 void qgemm_tile(const uint8_t* panels, int64_t n_panels, int64_t kc, const QActs& a,
                              int64_t n_tok, float* y, int64_t ldy, bool accumulate) {
  static constexpr GroupFn kGroups[] = {nullptr,        token_group<1>, token_group<2>,
                                        token_group<3>, token_group<4>, token_group<5>,
                                        token_group<6>};
  constexpr int64_t kMt = 6;
  const int64_t ldb = a.k / kQgemmBlock;
  for (int64_t t = 0; t < n_tok; t += kMt) {
    const int64_t mt = std::min(kMt, n_tok - t);
    const QActs at{a.q + t * a.k, a.d + t * ldb, a.c + t * ldb, a.k};
    kGroups[mt](panels, n_panels, kc, at, y + t * ldy, ldy, accumulate);
  }
}

}  // namespace minima::avx512

#endif  // MINIMA_HAVE_AVX512_KERNELS
