// AVX2 multi-row dots of Q4_K, Q5_K and Q6_K weights with Q8_K activations, one row at a time
// (avx2_rows.hpp).
//
// Per 256-element block the unsigned codes meet the activation bytes in _mm256_maddubs_epi16 and
// the int16 pair sums meet the sub-block scales in _mm256_madd_epi16; the scales are unpacked
// once per block into one register of int16 and broadcast per sub-block with a byte shuffle.
// What depends only on the activation is prepared once per call: Q4_K / Q5_K's min term needs Σ
// q_a per 32-element sub-block (pairs of bsums), Q6_K's −32 offset needs Σ sc·bsum with the bsums
// in the order of the reordered scales (below). Each row keeps eight int32 lanes per block,
// converted and scaled by d·d_a into eight float partial sums (and four for the mins), added in a
// fixed order at the end.
//
// Integer bounds (activations |q_a| ≤ 128): Q4_K / Q5_K maddubs pairs ≤ 2·31·128 = 7936, times a
// 6-bit scale and summed over a block ≤ 256·31·128·63 < 2^31; Q6_K pairs ≤ 2·63·128 = 16128 <
// 2^15, block sums ≤ 256·63·128·128 + 32·256·128·128 < 2^31.
#include "core/kernels/avx2_rows.hpp"

#ifdef MINIMA_HAVE_AVX2_KERNELS

#include <algorithm>
#include <type_traits>

#include "core/quant/kquant_scales.hpp"
#include "core/quant/types.hpp"

namespace minima::avx2 {
namespace {

// Blocks prepared per pass over the rows (16384 elements); longer rows take several passes, each
// adding its part to out.
constexpr int64_t kPassBlocks = 64;

struct PreparedQ8K {
  // bsums as [b0 b2 .. b14 | b1 b3 .. b15], matching the Q6_K scale register.
  alignas(32) int16_t even_odd[kPassBlocks][16];
  // b_2s + b_2s+1: Σ q_a over the eight 32-element sub-blocks (|·| ≤ 32·128, fits int16).
  alignas(16) int16_t pairs[kPassBlocks][8];
};

MINIMA_AVX2 static void prepare(const BlockQ8_K* y, int64_t nb, PreparedQ8K& p) {
  const __m256i even_odd_bytes =
      _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, 0, 1, 4, 5, 8, 9, 12,
                       13, 2, 3, 6, 7, 10, 11, 14, 15);
  for (int64_t i = 0; i < nb; ++i) {
    const __m256i b = load32(y[i].bsums);
    // Per lane [evens | odds] of 4 each, then the two lanes' even halves first.
    const __m256i eo = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(b, even_odd_bytes), 0xD8);
    _mm256_store_si256(reinterpret_cast<__m256i*>(p.even_odd[i]), eo);
    const __m128i pairs = _mm_hadd_epi16(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
    _mm_store_si128(reinterpret_cast<__m128i*>(p.pairs[i]), pairs);
  }
}

// Byte shuffles broadcasting int16 element j of each 128-bit lane.
alignas(32) constexpr int8_t kBroadcast16[8][32] = {
    {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
     0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
    {2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3,
     2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3},
    {4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5,
     4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5},
    {6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7,
     6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7},
    {8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9,
     8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9},
    {10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11,
     10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11},
    {12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13,
     12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13},
    {14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15,
     14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15},
};

MINIMA_AVX2_INLINE __m256i scale(__m256i scales16, int j) {
  return _mm256_shuffle_epi8(scales16, load32(kBroadcast16[j]));
}

MINIMA_AVX2_INLINE float hsum128(__m128 s) {
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The eight 6-bit scales and mins of a Q4_K / Q5_K block (layout: kquant_scales.hpp), one byte
// each, as two 64-bit words kept in registers (the same operations as unpack_scales_q4k_words).
inline void scales_q4k(const uint8_t* s, uint64_t& sc, uint64_t& m) {
  uint32_t w[3];
  std::memcpy(w, s, 12);
  const uint32_t low6 = 0x3F3F3F3Fu, low4 = 0x0F0F0F0Fu, low2 = 0x03030303u;
  sc = (w[0] & low6) | uint64_t{(w[2] & low4) | ((w[0] >> 6) & low2) << 4} << 32;
  m = (w[1] & low6) | uint64_t{((w[2] >> 4) & low4) | ((w[1] >> 6) & low2) << 4} << 32;
}

// Q4_K (kFive false) / Q5_K row part over nb blocks.
template <bool kFive>
MINIMA_AVX2_INLINE float row_4k5k(const uint8_t* row, int64_t nb, const BlockQ8_K* y,
                                  const PreparedQ8K& p) {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
  const auto* x = reinterpret_cast<const Block*>(row);
  const __m256i nib = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_min = _mm_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(x + i);
    for (size_t off = 0; off < sizeof(Block); off += 64) prefetch_ahead(bytes + off);
    uint64_t sc, m;
    scales_q4k(x[i].scales, sc, m);
    const __m256i scales =
        _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(sc))));
    __m256i hbits = _mm256_setzero_si256();
    if constexpr (kFive) hbits = load32(x[i].qh);
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m256i q = load32(x[i].qs + 32 * k);
      __m256i lo = _mm256_and_si256(q, nib);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nib);
      if constexpr (kFive) {
        lo = _mm256_or_si256(
            lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * k), one), 4));
        hi = _mm256_or_si256(
            hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * k + 1), one), 4));
      }
      const __m256i plo = _mm256_maddubs_epi16(lo, load32(y[i].qs + 64 * k));
      const __m256i phi = _mm256_maddubs_epi16(hi, load32(y[i].qs + 64 * k + 32));
      sumi = _mm256_add_epi32(sumi,
                              _mm256_add_epi32(_mm256_madd_epi16(plo, scale(scales, 2 * k)),
                                               _mm256_madd_epi16(phi, scale(scales, 2 * k + 1))));
    }
    // [d·d_a, dmin·d_a] from the two leading halves.
    uint32_t dm;
    std::memcpy(&dm, &x[i].d, 4);
    const __m128 f =
        _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(dm))), _mm_set1_ps(y[i].d));
    acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(f), _mm256_cvtepi32_ps(sumi), acc);
    const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(m)));
    const __m128i summ =
        _mm_madd_epi16(m16, _mm_load_si128(reinterpret_cast<const __m128i*>(p.pairs[i])));
    acc_min = _mm_fmadd_ps(_mm_permute_ps(f, 0x55), _mm_cvtepi32_ps(summ), acc_min);
  }
  return hsum(acc) - hsum128(acc_min);
}

// Q6_K: the 16 int8 scales reordered as int16 [sc0 sc2 .. sc14 | sc1 sc3 .. sc15], so that group g
// of half h (elements 0..15 scaled by sc[8h+2g], 16..31 by sc[8h+2g+1]) takes int16 element
// 4h+g of each lane: one shuffle per 32 elements.
MINIMA_AVX2_INLINE float row_6k(const uint8_t* row, int64_t nb, const BlockQ8_K* y,
                                const PreparedQ8K& p) {
  const auto* x = reinterpret_cast<const BlockQ6_K*>(row);
  const __m256i nib = _mm256_set1_epi8(0x0F), top = _mm256_set1_epi8(0x30);
  const __m128i even_odd = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(x + i);
    for (size_t off = 0; off < sizeof(BlockQ6_K); off += 64) prefetch_ahead(bytes + off);
    const __m256i scales = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(load16(x[i].scales), even_odd));
    const __m256i offset = _mm256_madd_epi16(
        scales, _mm256_load_si256(reinterpret_cast<const __m256i*>(p.even_odd[i])));
    __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(offset, 5));
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load32(x[i].ql + 64 * h), ql1 = load32(x[i].ql + 64 * h + 32);
      const __m256i qh = load32(x[i].qh + 32 * h);
      // Bits 2g..2g+1 of qh moved to bits 4..5 (16-bit shifts: bits crossing a byte are masked).
      const __m256i code[4] = {_mm256_or_si256(_mm256_and_si256(ql0, nib),
                                               _mm256_and_si256(_mm256_slli_epi16(qh, 4), top)),
                               _mm256_or_si256(_mm256_and_si256(ql1, nib),
                                               _mm256_and_si256(_mm256_slli_epi16(qh, 2), top)),
                               _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), nib),
                                               _mm256_and_si256(qh, top)),
                               _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), nib),
                                               _mm256_and_si256(_mm256_srli_epi16(qh, 2), top))};
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) {
        const __m256i prod = _mm256_maddubs_epi16(code[g], load32(y[i].qs + 128 * h + 32 * g));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(prod, scale(scales, 4 * h + g)));
      }
    }
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(x[i].d) * y[i].d);
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

enum class KQuant { Q4_K, Q5_K, Q6_K };

template <KQuant kType>
MINIMA_AVX2_INLINE float row_part(const uint8_t* row, int64_t nb, const BlockQ8_K* y,
                                  const PreparedQ8K& p) {
  if constexpr (kType == KQuant::Q6_K) {
    return row_6k(row, nb, y, p);
  } else {
    return row_4k5k<kType == KQuant::Q5_K>(row, nb, y, p);
  }
}

template <KQuant kType>
MINIMA_AVX2 static void rows(const void* w, size_t stride, int64_t n_rows, const void* a, int64_t n,
                             float* out) {
  constexpr size_t kBlock = kType == KQuant::Q4_K   ? sizeof(BlockQ4_K)
                            : kType == KQuant::Q5_K ? sizeof(BlockQ5_K)
                                                    : sizeof(BlockQ6_K);
  const auto* base = static_cast<const uint8_t*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const int64_t nb = n / QK_K;
  PreparedQ8K p;
  for (int64_t b0 = 0; b0 < nb; b0 += kPassBlocks) {
    const int64_t pb = std::min(kPassBlocks, nb - b0);
    prepare(y + b0, pb, p);
    const uint8_t* row = base + kBlock * static_cast<size_t>(b0);
    for (int64_t r = 0; r < n_rows; ++r, row += stride) {
      const float part = row_part<kType>(row, pb, y + b0, p);
      out[r] = b0 == 0 ? part : out[r] + part;
    }
  }
}

}  // namespace

MINIMA_AVX2 void dot_rows_q4_k(const void* w, size_t stride, int64_t n_rows, const void* a,
                               int64_t n, float* out) {
  rows<KQuant::Q4_K>(w, stride, n_rows, a, n, out);
}

MINIMA_AVX2 void dot_rows_q5_k(const void* w, size_t stride, int64_t n_rows, const void* a,
                               int64_t n, float* out) {
  rows<KQuant::Q5_K>(w, stride, n_rows, a, n, out);
}

MINIMA_AVX2 void dot_rows_q6_k(const void* w, size_t stride, int64_t n_rows, const void* a,
                               int64_t n, float* out) {
  rows<KQuant::Q6_K>(w, stride, n_rows, a, n, out);
}

}  // namespace minima::avx2

#endif  // MINIMA_HAVE_AVX2_KERNELS
