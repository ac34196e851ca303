// AVX-512 VNNI kernels of the integer prefill GEMM (contracts and layouts: core/qgemm.hpp).
//
// Microkernel: NP panels (16 rows each) × MT tokens, NP·MT int32 block sums and NP·MT float
// accumulators in zmm registers (2 × 6: 24 accumulators, 27 of the 32 registers). Per block and
// 4-element group it loads one 64-byte line per panel and broadcasts 4 activation codes per
// token, then issues NP·MT vpdpbusd; per block (or half block, for Halves) it converts the sums
// and applies the scale with one FMA, and for Min adds the min term with a second FMA, in the
// contract's order. Two panels per tile halve the activation broadcasts per vpdpbusd, which keeps
// the loads below the dot-product issue rate.
//
// Packing: the codes of 16 rows are unpacked with vector integer ops, one 32-byte register per row
// and block, and transposed in registers: rows i and i + 8 share a zmm, and an 8 × 8 dword
// transpose within both 256-bit halves (unpack 32, unpack 64, then a two-source qword permute)
// leaves group g's 16 row dwords in register g. No gathers: they are slow on CPUs with the Gather
// Data Sampling mitigation.
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
static_assert(kP == 16, "a panel's 16 rows are the 16 int32 lanes of one zmm");

MINIMA_AVX512 static inline int32_t load_u32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// s[p][t] += Σ over groups [g0, g0 + 4) of the block's codes times token t's activation codes.
template <int NP, int MT>
MINIMA_AVX512 static inline void dots(const uint8_t* pb, size_t panel_bytes, const int8_t* qb,
                                      int64_t ldq, int g0, __m512i (&s)[NP][MT]) {
#pragma GCC unroll 4
  for (int g = g0; g < g0 + 4; ++g) {
    __m512i w[NP];
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p)
      w[p] = _mm512_load_si512(reinterpret_cast<const void*>(pb + p * panel_bytes + 64 * g));
#pragma GCC unroll 6
    for (int t = 0; t < MT; ++t) {
      const __m512i x = _mm512_set1_epi32(load_u32(qb + t * ldq + 4 * g));
#pragma GCC unroll 2
      for (int p = 0; p < NP; ++p) s[p][t] = _mm512_dpbusd_epi32(s[p][t], w[p], x);
    }
  }
}

// f[p][t] = fma(float(s[p][t]), scale_row_p · v[t], f[p][t]).
template <int NP, int MT>
MINIMA_AVX512 static inline void scale_add(const uint8_t* row, size_t panel_bytes,
                                           const __m512 (&v)[MT], const __m512i (&s)[NP][MT],
                                           __m512 (&f)[NP][MT]) {
  __m512 dw[NP];
#pragma GCC unroll 2
  for (int p = 0; p < NP; ++p)
    dw[p] = _mm512_load_ps(reinterpret_cast<const float*>(row + p * panel_bytes));
#pragma GCC unroll 6
  for (int t = 0; t < MT; ++t) {
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p)
      f[p][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[p][t]), _mm512_mul_ps(dw[p], v[t]), f[p][t]);
  }
}

template <QgemmKind K, int NP, int MT>
MINIMA_AVX512 static inline void qtile(const uint8_t* panel, size_t panel_bytes, int64_t nb,
                                       const QActs& a, float* y, int64_t ldy, bool accumulate) {
  constexpr int64_t kBytes = qgemm_block_bytes(K);
  const int64_t ldb = a.k / kQgemmBlock;
  __m512 f[NP][MT];
#pragma GCC unroll 6
  for (int t = 0; t < MT; ++t) {
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p)
      f[p][t] = accumulate ? _mm512_loadu_ps(y + t * ldy + p * kP) : _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* pb = panel + b * kBytes;
    const int8_t* qb = a.q + b * kQgemmBlock;
    __m512 dx[MT];
#pragma GCC unroll 6
    for (int t = 0; t < MT; ++t) dx[t] = _mm512_set1_ps(a.d[t * ldb + b]);
    __m512i s[NP][MT];
    if constexpr (K == QgemmKind::Halves) {
      for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 6
        for (int t = 0; t < MT; ++t) {
          const __m512i c = _mm512_set1_epi32(a.c16[2 * (t * ldb + b) + h]);
#pragma GCC unroll 2
          for (int p = 0; p < NP; ++p) s[p][t] = c;
        }
        dots<NP, MT>(pb, panel_bytes, qb, a.k, 4 * h, s);
        scale_add<NP, MT>(pb + kQgemmCodeBytes + 64 * h, panel_bytes, dx, s, f);
      }
    } else {
#pragma GCC unroll 6
      for (int t = 0; t < MT; ++t) {
        const __m512i c =
            K == QgemmKind::Plain ? _mm512_set1_epi32(a.c32[t * ldb + b]) : _mm512_setzero_si512();
#pragma GCC unroll 2
        for (int p = 0; p < NP; ++p) s[p][t] = c;
      }
      dots<NP, MT>(pb, panel_bytes, qb, a.k, 0, s);
      dots<NP, MT>(pb, panel_bytes, qb, a.k, 4, s);
      scale_add<NP, MT>(pb + kQgemmCodeBytes, panel_bytes, dx, s, f);
      if constexpr (K == QgemmKind::Min) {
        __m512 nw[NP];
#pragma GCC unroll 2
        for (int p = 0; p < NP; ++p)
          nw[p] = _mm512_load_ps(
              reinterpret_cast<const float*>(pb + kQgemmCodeBytes + 64 + p * panel_bytes));
#pragma GCC unroll 6
        for (int t = 0; t < MT; ++t) {
          const __m512 sx = _mm512_set1_ps(a.s[t * ldb + b]);
#pragma GCC unroll 2
          for (int p = 0; p < NP; ++p)
            f[p][t] = _mm512_fmadd_ps(sx, _mm512_mul_ps(nw[p], dx[t]), f[p][t]);
        }
      }
    }
  }
#pragma GCC unroll 6
  for (int t = 0; t < MT; ++t) {
#pragma GCC unroll 2
    for (int p = 0; p < NP; ++p) _mm512_storeu_ps(y + t * ldy + p * kP, f[p][t]);
  }
}

// MT tokens against every panel: pairs of panels, then a last single one.
template <QgemmKind K, int MT>
MINIMA_AVX512 static void token_group(const uint8_t* panels, int64_t n_panels, int64_t kc,
                                      const QActs& a, float* y, int64_t ldy, bool accumulate) {
  const int64_t nb = kc / kQgemmBlock;
  const size_t pbytes = size_t(nb) * size_t(qgemm_block_bytes(K));
  int64_t p = 0;
  for (; p + 2 <= n_panels; p += 2)
    qtile<K, 2, MT>(panels + size_t(p) * pbytes, pbytes, nb, a, y + p * kP, ldy, accumulate);
  for (; p < n_panels; ++p)
    qtile<K, 1, MT>(panels + size_t(p) * pbytes, pbytes, nb, a, y + p * kP, ldy, accumulate);
}

using GroupFn = void (*)(const uint8_t*, int64_t, int64_t, const QActs&, float*, int64_t, bool);

template <QgemmKind K>
MINIMA_AVX512 static void tokens(const uint8_t* panels, int64_t n_panels, int64_t kc,
                                 const QActs& a, int64_t n_tok, float* y, int64_t ldy,
                                 bool accumulate) {
  static constexpr GroupFn kGroups[] = {nullptr,           token_group<K, 1>, token_group<K, 2>,
                                        token_group<K, 3>, token_group<K, 4>, token_group<K, 5>,
                                        token_group<K, 6>};
  constexpr int64_t kMt = 6;
  for (int64_t t = 0; t < n_tok; t += kMt) {
    const int64_t mt = std::min(kMt, n_tok - t);
    kGroups[mt](panels, n_panels, kc, a.at(t, 0), y + t * ldy, ldy, accumulate);
  }
}

// x[i] = [codes of row i | codes of row i + 8] (8 dwords each) -> out[g·64 ..]: dword g of rows
// 0..15.
MINIMA_AVX512 static inline void transpose_regs(const __m512i (&x)[8], uint8_t* out) {
  __m512i t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm512_unpacklo_epi32(x[i], x[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(x[i], x[i + 1]);
  }
  // u[4h + j]: rows 4h..4h+3 (and + 8), dwords j and j + 4 of each 128-bit lane pair.
  for (int h = 0; h < 2; ++h) {
    const __m512i* th = t + 4 * h;
    u[4 * h + 0] = _mm512_unpacklo_epi64(th[0], th[2]);
    u[4 * h + 1] = _mm512_unpackhi_epi64(th[0], th[2]);
    u[4 * h + 2] = _mm512_unpacklo_epi64(th[1], th[3]);
    u[4 * h + 3] = _mm512_unpackhi_epi64(th[1], th[3]);
  }
  const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
  const __m512i second = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  for (int j = 0; j < 4; ++j) {
    _mm512_store_si512(out + 64 * j, _mm512_permutex2var_epi64(u[j], first, u[4 + j]));
    _mm512_store_si512(out + 64 * (j + 4), _mm512_permutex2var_epi64(u[j], second, u[4 + j]));
  }
}

MINIMA_AVX512 static inline __m256i load32(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// The 32 codes (u = code + bias, in element order) of block b of a row, per format: the same
// values as qgemm_pack_ref's plain loops (core/qgemm_pack.cpp), with vector integer ops.
template <DType T>
MINIMA_AVX512 static inline __m256i codes(const uint8_t* row, int64_t b) {
  const __m256i nib = _mm256_set1_epi8(0x0F);
  if constexpr (T == DType::Q4_0) {
    const __m128i q =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + b * int64_t(sizeof(BlockQ4_0)) + 2));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), nib);
  } else if constexpr (T == DType::Q8_0) {
    return _mm256_xor_si256(load32(row + b * int64_t(sizeof(BlockQ8_0)) + 2),
                            _mm256_set1_epi8(static_cast<char>(0x80)));
  } else if constexpr (T == DType::Q4_K || T == DType::Q5_K) {
    using Block = std::conditional_t<T == DType::Q5_K, BlockQ5_K, BlockQ4_K>;
    const auto* x = reinterpret_cast<const Block*>(row) + b / 8;
    const int j = static_cast<int>(b % 8);
    const __m256i q = load32(x->qs + 32 * (j / 2));
    __m256i u = _mm256_and_si256((j & 1) ? _mm256_srli_epi16(q, 4) : q, nib);
    if constexpr (T == DType::Q5_K) {
      const __m256i h = _mm256_and_si256(_mm256_srl_epi16(load32(x->qh), _mm_cvtsi32_si128(j)),
                                         _mm256_set1_epi8(1));
      u = _mm256_or_si256(u, _mm256_slli_epi16(h, 4));
    }
    return u;
  } else {
    static_assert(T == DType::Q6_K);
    const auto* x = reinterpret_cast<const BlockQ6_K*>(row) + b / 8;
    const int j = static_cast<int>(b % 8), h = j / 4, quarter = j % 4;
    const __m256i ql = load32(x->ql + 64 * h + 32 * (quarter & 1));
    const __m256i lo = _mm256_and_si256(quarter < 2 ? ql : _mm256_srli_epi16(ql, 4), nib);
    const __m256i qh = _mm256_srl_epi16(load32(x->qh + 32 * h), _mm_cvtsi32_si128(2 * quarter));
    const __m256i hi = _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(3)), 4);
    return _mm256_or_si256(lo, hi);
  }
}

template <DType T>
MINIMA_AVX512 void pack(const void* rows, size_t row_stride, int64_t n_rows, int64_t kc,
                        uint8_t* panel) {
  // Scales (and mins) of every block through the shared code's formulas, written row by row;
  // then the codes, 16 rows per block, transposed in registers.
  qgemm_pack_scales(T, rows, row_stride, n_rows, kc, panel);
  const auto* base = static_cast<const uint8_t*>(rows);
  const int64_t bytes = qgemm_block_bytes(qgemm_kind(T));
  for (int64_t b = 0; b < kc / kQgemmBlock; ++b) {
    __m256i c[16];
    for (int64_t i = 0; i < 16; ++i)
      c[i] = i < n_rows ? codes<T>(base + size_t(i) * row_stride, b) : _mm256_setzero_si256();
    __m512i x[8];
    for (int i = 0; i < 8; ++i)
      x[i] = _mm512_inserti64x4(_mm512_castsi256_si512(c[i]), c[i + 8], 1);
    transpose_regs(x, panel + b * bytes);
  }
}

}  // namespace

MINIMA_AVX512 void qgemm_tile(const uint8_t* panels, int64_t n_panels, int64_t kc, QgemmKind kind,
                              const QActs& a, int64_t n_tok, float* y, int64_t ldy,
                              bool accumulate) {
  switch (kind) {
    case QgemmKind::Plain:
      return tokens<QgemmKind::Plain>(panels, n_panels, kc, a, n_tok, y, ldy, accumulate);
    case QgemmKind::Min:
      return tokens<QgemmKind::Min>(panels, n_panels, kc, a, n_tok, y, ldy, accumulate);
    case QgemmKind::Halves:
      return tokens<QgemmKind::Halves>(panels, n_panels, kc, a, n_tok, y, ldy, accumulate);
  }
}

void put_qgemm_packs(std::array<QgemmPackFn, kDTypeCount>& table) {
  table[static_cast<uint32_t>(DType::Q4_0)] = pack<DType::Q4_0>;
  table[static_cast<uint32_t>(DType::Q8_0)] = pack<DType::Q8_0>;
  table[static_cast<uint32_t>(DType::Q4_K)] = pack<DType::Q4_K>;
  table[static_cast<uint32_t>(DType::Q5_K)] = pack<DType::Q5_K>;
  table[static_cast<uint32_t>(DType::Q6_K)] = pack<DType::Q6_K>;
}

}  // namespace minima::avx512

#endif  // MINIMA_HAVE_AVX512_KERNELS
