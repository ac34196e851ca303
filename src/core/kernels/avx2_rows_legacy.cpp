// AVX2 multi-row dots of Q4_0, Q5_0 and Q8_0 weights with Q8_0 activations: one row at a time,
// eight blocks at a time with lanes as blocks (avx2_rows.hpp).
//
// Q4_0 / Q5_0: codes stay unsigned (0..15 / 0..31), so no sign trick is needed, and the code
// offset o (8 / 16) is removed from the exact block sums as o·Σ q_a, prepared per block once per
// call. Blocks k and k+4 of a group share a register (block k's 16 code bytes in the low
// 128-bit lane, block k+4's in the high one); the activation is prepared in the matching order
// (the first 16 bytes of both blocks for the low codes, the last 16 for the high codes), so one
// _mm256_maddubs_epi16 serves two blocks. Int16 bounds for any int8 activation (|q_a| ≤ 128):
// two maddubs pairs ≤ 2·(2·31·128) = 15872 < 32767. Block sums ≤ 32·31·128 < 2^24: exact in int32
// and after conversion to float.
//
// Q8_0: sign trick (|w| unsigned, sign(w)·a signed); maddubs pairs ≤ 2·128·127 = 32512 as long as
// activations stay in [−127, 127], which every activation quantizer guarantees.
//
// Per group of eight blocks a row adds fma(d_w · d_a, float(block sum), acc) lane-wise.
#include "core/kernels/avx2_rows.hpp"

#ifdef MINIMA_HAVE_AVX2_KERNELS

#include <algorithm>

#include "core/quant/types.hpp"

namespace minima::avx2 {
namespace {

// Blocks prepared per pass over the rows: 16384 elements, 20 KB on the stack. Longer rows are
// done in several passes, each adding its part to out (a function of n only, so still the same
// for every row split).
constexpr int64_t kPassBlocks = 512;

// The Q8_0 activation blocks of one pass, zero-padded to whole groups of eight.
struct PreparedQ8 {
  // Group g, pair k (k < 4), 64 bytes: [a_{8g+k}[0..15] | a_{8g+k+4}[0..15]] then
  // [a_{8g+k}[16..31] | a_{8g+k+4}[16..31]].
  alignas(32) int8_t paired[kPassBlocks * 32];
  alignas(32) int32_t offset[kPassBlocks];  // o·Σ q_a of each block (o: the weights' code offset)
  alignas(32) float d[kPassBlocks];         // d_a of each block
};

MINIMA_AVX2_INLINE int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// o: the weights' code offset (8 for Q4_0, 16 for Q5_0); 0 for Q8_0, which also needs no pairing.
MINIMA_AVX2 static void prepare(const BlockQ8_0* y, int64_t nb, int o, PreparedQ8& p) {
  const int64_t padded = (nb + 7) / 8 * 8;
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (int64_t j = 0; j < padded; ++j) {
    if (j < nb) {
      const __m256i q = load32(y[j].qs);
      p.offset[j] = o * hsum_i32(_mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16));
      p.d[j] = _cvtsh_ss(y[j].d);
    } else {
      p.offset[j] = 0;
      p.d[j] = 0.0f;
    }
  }
  if (o == 0) return;
  alignas(16) static constexpr int8_t kZero[32] = {};
  for (int64_t j0 = 0; j0 < padded; j0 += 8) {
    for (int64_t k = 0; k < 4; ++k) {
      const int8_t* a = j0 + k < nb ? y[j0 + k].qs : kZero;
      const int8_t* b = j0 + k + 4 < nb ? y[j0 + k + 4].qs : kZero;
      int8_t* dst = p.paired + 32 * j0 + 64 * k;
      _mm256_store_si256(reinterpret_cast<__m256i*>(dst), load_pair(a, b));
      _mm256_store_si256(reinterpret_cast<__m256i*>(dst + 32), load_pair(a + 16, b + 16));
    }
  }
}

// Q5_0 fifth bits as 0x10 per element: qh holds block k's 32-bit word in every dword of the low
// 128-bit lane and block k+4's in the high one; the result covers elements 0..15 (kHigh false) or
// 16..31 of both blocks. Byte j of a lane tests bit j%8 of qh byte j/8 (+2 for 16..31).
template <bool kHigh>
MINIMA_AVX2_INLINE __m256i fifth_bits(__m256i qh) {
  const int64_t first = kHigh ? 0x0202020202020202 : 0x0000000000000000;
  const int64_t second = kHigh ? 0x0303030303030303 : 0x0101010101010101;
  const __m256i bytes = _mm256_shuffle_epi8(qh, _mm256_set_epi64x(second, first, second, first));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// Eight blocks of a Q4_0 (kFive false) or Q5_0 row at blk; p: the pass, g: the group in it.
template <bool kFive>
MINIMA_AVX2_INLINE __m256 group_q4q5(const uint8_t* blk, const PreparedQ8& p, int64_t g, __m256 acc,
                                     __m256 live) {
  constexpr size_t kBlock = kFive ? sizeof(BlockQ5_0) : sizeof(BlockQ4_0);
  constexpr size_t kQs = kFive ? offsetof(BlockQ5_0, qs) : offsetof(BlockQ4_0, qs);
  const __m256i nib = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  const int8_t* act = p.paired + 256 * g;
  __m256i s[4];
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    const __m256i x = load_pair(blk + k * kBlock + kQs, blk + (k + 4) * kBlock + kQs);
    __m256i lo = _mm256_and_si256(x, nib);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), nib);
    if constexpr (kFive) {
      // Broadcast loads are load-port only; the blend runs on any vector pipe.
      int32_t h0, h1;
      std::memcpy(&h0, blk + k * kBlock + offsetof(BlockQ5_0, qh), 4);
      std::memcpy(&h1, blk + (k + 4) * kBlock + offsetof(BlockQ5_0, qh), 4);
      const __m256i qh = _mm256_blend_epi32(_mm256_set1_epi32(h0), _mm256_set1_epi32(h1), 0xF0);
      lo = _mm256_or_si256(lo, fifth_bits<false>(qh));
      hi = _mm256_or_si256(hi, fifth_bits<true>(qh));
    }
    const __m256i s16 = _mm256_add_epi16(_mm256_maddubs_epi16(lo, load32(act + 64 * k)),
                                         _mm256_maddubs_epi16(hi, load32(act + 64 * k + 32)));
    s[k] = _mm256_madd_epi16(s16, ones);
  }
  const __m256 f = _mm256_cvtepi32_ps(_mm256_sub_epi32(reduce_pairs(s), load32(p.offset + 8 * g)));
  // live: all ones, or zero in the lanes of blocks past the row's end (their scales are then
  // exactly 0 whatever bytes were read there).
  const __m256 d =
      _mm256_and_ps(_mm256_mul_ps(halves8(blk, kBlock), _mm256_load_ps(p.d + 8 * g)), live);
  return _mm256_fmadd_ps(d, f, acc);
}

// Eight blocks of a Q8_0 row at blk against the activation blocks y (natural layout).
MINIMA_AVX2_INLINE __m256 group_q8_0(const uint8_t* blk, const BlockQ8_0* y, const PreparedQ8& p,
                                     int64_t g, __m256 acc, __m256 live) {
  constexpr size_t kBlock = sizeof(BlockQ8_0), kQs = offsetof(BlockQ8_0, qs);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i b[8];
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    const __m256i x = load32(blk + k * kBlock + kQs);
    const __m256i prod =
        _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(load32(y[8 * g + k].qs), x));
    b[k] = _mm256_madd_epi16(prod, ones);
  }
  __m256i s[4];
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) s[k] = pair(b[k], b[k + 4]);
  const __m256 f = _mm256_cvtepi32_ps(reduce_pairs(s));
  // live: all ones, or zero in the lanes of blocks past the row's end (their scales are then
  // exactly 0 whatever bytes were read there).
  const __m256 d =
      _mm256_and_ps(_mm256_mul_ps(halves8(blk, kBlock), _mm256_load_ps(p.d + 8 * g)), live);
  return _mm256_fmadd_ps(d, f, acc);
}

enum class Legacy { Q4_0, Q5_0, Q8_0 };

template <Legacy kType>
constexpr size_t block_bytes() {
  return kType == Legacy::Q4_0   ? sizeof(BlockQ4_0)
         : kType == Legacy::Q5_0 ? sizeof(BlockQ5_0)
                                 : sizeof(BlockQ8_0);
}

template <Legacy kType>
MINIMA_AVX2_INLINE __m256 group(const uint8_t* blk, const BlockQ8_0* y, const PreparedQ8& p,
                                int64_t g, __m256 acc,
                                __m256 live = _mm256_castsi256_ps(_mm256_set1_epi32(-1))) {
  if constexpr (kType == Legacy::Q8_0) {
    return group_q8_0(blk, y, p, g, acc, live);
  } else {
    return group_q4q5<kType == Legacy::Q5_0>(blk, p, g, acc, live);
  }
}

// Lanes of the first `valid` blocks of a group set.
MINIMA_AVX2_INLINE __m256 live_lanes(int64_t valid) {
  return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(valid)),
                                                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}

// One row's part over a pass of nb blocks, for T activations at once (T = 1: the one-token dot).
// Each token's value comes from the same group<kType> calls on the same inputs in the same order
// whatever T is, so it has the one-token bits; the weight loads and unpacking that group<kType>
// repeats per token are the same expressions on the same bytes, which the compiler computes once.
// end: the first byte past the matrix that may not be read (0: none may be read past the row).
template <Legacy kType, int T>
MINIMA_AVX2_INLINE void row_part(const uint8_t* row, int64_t nb, const BlockQ8_0* const* y,
                                 const PreparedQ8* p, uintptr_t end, float* out) {
  constexpr size_t kBlock = block_bytes<kType>();
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  int64_t g = 0;
  for (; 8 * (g + 1) <= nb; ++g) {
    const uint8_t* blk = row + 8 * kBlock * g;
    // The thread's rows are one ascending stream; asking for it ahead (prefetch_ahead) keeps more
    // lines in flight than the hardware prefetcher does on its own (addresses past the end are
    // harmless: a prefetch never faults).
    for (size_t off = 0; off < 8 * kBlock; off += 64) prefetch_ahead(blk + off);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[t] = group<kType>(blk, y[t], p[t], g, acc[t]);
  }
  if (8 * g < nb) {
    // The last partial group: read in place when a whole group's bytes are readable (the next
    // rows follow), with the scales of the blocks past the end masked to 0; else on a
    // zero-padded copy. Both add exactly what the valid blocks add.
    const uint8_t* blk = row + 8 * kBlock * g;
    if (reinterpret_cast<uintptr_t>(blk) + 8 * kBlock <= end) {
      const __m256 live = live_lanes(nb - 8 * g);
      for (int t = 0; t < T; ++t) acc[t] = group<kType>(blk, y[t], p[t], g, acc[t], live);
    } else {
      alignas(32) uint8_t tail[8 * kBlock] = {};
      std::memcpy(tail, blk, kBlock * static_cast<size_t>(nb - 8 * g));
      for (int t = 0; t < T; ++t) acc[t] = group<kType>(tail, y[t], p[t], g, acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) out[t] = hsum(acc[t]);
}

// Rows times T activation rows (act_stride bytes apart), out[t·ldo + r]: the weights are read
// once for all T.
template <Legacy kType, int T>
MINIMA_AVX2 static void rows_multi(const void* w, size_t stride, int64_t n_rows, const void* a,
                                   size_t act_stride, int64_t n, float* out, int64_t ldo) {
  constexpr size_t kBlock = block_bytes<kType>();
  const auto* base = static_cast<const uint8_t*>(w);
  const int64_t nb = n / QK8_0;
  // Past the last row's last byte nothing may be read (rows are contiguous only if stride says
  // so; 0: no in-place tails).
  const uintptr_t end =
      stride == kBlock * static_cast<size_t>(nb)
          ? reinterpret_cast<uintptr_t>(base + stride * static_cast<size_t>(n_rows))
          : 0;
  PreparedQ8 p[T];
  const BlockQ8_0* y[T];
  for (int64_t b0 = 0; b0 < nb; b0 += kPassBlocks) {
    const int64_t pb = std::min(kPassBlocks, nb - b0);
    for (int t = 0; t < T; ++t) {
      y[t] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) +
                                                size_t(t) * act_stride) +
             b0;
      prepare(y[t], pb, kType == Legacy::Q4_0 ? 8 : kType == Legacy::Q5_0 ? 16 : 0, p[t]);
    }
    const uint8_t* row = base + kBlock * static_cast<size_t>(b0);
    for (int64_t r = 0; r < n_rows; ++r, row += stride) {
      float part[T];
      row_part<kType, T>(row, pb, y, p, end, part);
      for (int t = 0; t < T; ++t) out[t * ldo + r] = b0 == 0 ? part[t] : out[t * ldo + r] + part[t];
    }
  }
}

template <Legacy kType>
MINIMA_AVX2 static void rows_up_to_4(const void* w, size_t stride, int64_t n_rows, const void* a,
                                     size_t act_stride, int64_t n_tok, int64_t n, float* out,
                                     int64_t ldo) {
  switch (n_tok) {
    case 4:
      return rows_multi<kType, 4>(w, stride, n_rows, a, act_stride, n, out, ldo);
    case 3:
      return rows_multi<kType, 3>(w, stride, n_rows, a, act_stride, n, out, ldo);
    case 2:
      return rows_multi<kType, 2>(w, stride, n_rows, a, act_stride, n, out, ldo);
    default:
      return rows_multi<kType, 1>(w, stride, n_rows, a, act_stride, n, out, ldo);
  }
}

template <Legacy kType>
MINIMA_AVX2 static void rows(const void* w, size_t stride, int64_t n_rows, const void* a, int64_t n,
                             float* out) {
  rows_multi<kType, 1>(w, stride, n_rows, a, 0, n, out, 0);
}

}  // namespace

MINIMA_AVX2 void dot_rows_q4_0(const void* w, size_t stride, int64_t n_rows, const void* a,
                               int64_t n, float* out) {
  rows<Legacy::Q4_0>(w, stride, n_rows, a, n, out);
}

MINIMA_AVX2 void dot_rows_q5_0(const void* w, size_t stride, int64_t n_rows, const void* a,
                               int64_t n, float* out) {
  rows<Legacy::Q5_0>(w, stride, n_rows, a, n, out);
}

MINIMA_AVX2 void dot_rows_q8_0(const void* w, size_t stride, int64_t n_rows, const void* a,
                               int64_t n, float* out) {
  rows<Legacy::Q8_0>(w, stride, n_rows, a, n, out);
}

MINIMA_AVX2 void dot_rows_multi_q4_0(const void* w, size_t stride, int64_t n_rows, const void* a,
                                     size_t act_stride, int64_t n_tok, int64_t n, float* out,
                                     int64_t ldo) {
  rows_up_to_4<Legacy::Q4_0>(w, stride, n_rows, a, act_stride, n_tok, n, out, ldo);
}

MINIMA_AVX2 void dot_rows_multi_q5_0(const void* w, size_t stride, int64_t n_rows, const void* a,
                                     size_t act_stride, int64_t n_tok, int64_t n, float* out,
                                     int64_t ldo) {
  rows_up_to_4<Legacy::Q5_0>(w, stride, n_rows, a, act_stride, n_tok, n, out, ldo);
}

MINIMA_AVX2 void dot_rows_multi_q8_0(const void* w, size_t stride, int64_t n_rows, const void* a,
                                     size_t act_stride, int64_t n_tok, int64_t n, float* out,
                                     int64_t ldo) {
  rows_up_to_4<Legacy::Q8_0>(w, stride, n_rows, a, act_stride, n_tok, n, out, ldo);
}

}  // namespace minima::avx2

#endif  // MINIMA_HAVE_AVX2_KERNELS
