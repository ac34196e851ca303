// AVX-512 VNNI multi-row dots of Q4_0 and Q8_0 weights with Q8_0 activations (contracts: DotRowsFn
// and DotRowsMultiFn in kernels.hpp). They also need AVX512_VBMI (byte permutes), so the table
// only takes them on CPUs that have it (kernels.cpp).
//
// A row is read one group of 16 blocks at a time with whole 64-byte loads (5 for Q4_0's 288 bytes,
// 9 for Q8_0's 544), the last of them masked to the bytes the group holds: nothing past a row is
// ever read, and a short last group is the same code with fewer bytes. Two-source byte permutes
// (vpermt2b) pick out of those registers the code bytes of four Q4_0 blocks (or two Q8_0 blocks)
// per register and the 16 half-precision scales of the group, so the 18- and 34-byte block
// strides cost no unaligned or per-block loads.
//
// Integers: vpdpbusd multiplies unsigned weight bytes (Q4_0 nibbles 0..15; Q8_0 codes + 128, by
// flipping the sign bit) by signed activation codes into int32 lanes that start at minus the
// offset term of their block (8·Σ q_a or 128·Σ q_a, prepared once per call), so each block's lanes
// add up to its exact dot of codes. Bounds: a Q4_0 block sum is ≤ 32·15·128 < 2^24 in magnitude
// and its offset ≤ 8·32·128; a Q8_0 block's biased lanes are ≤ 32·255·128 < 2^24: every
// intermediate is exact in int32, and every block sum is exact as a float.
//
// Floats: a fixed add tree folds the lanes of a group's 16 blocks into one register whose lane j
// holds one block's exact sum ("lanes are blocks", like the AVX2 kernels, with sixteen lanes); it
// is converted once and multiplied by the blocks' d_w·d_a in one FMA per group. A row keeps 16
// float partial sums (lane j: one fixed block of every group) added in a fixed order at the end,
// so a row's value depends only on the row and the activation, and the multi-token entries repeat
// the one-token arithmetic per token (same bits). The test bound is the one of every dot kernel
// (tests/core/gemv_test.cpp): one rounded term per block, summed in some order.
#include "core/kernels/avx512.hpp"

#ifdef MINIMA_HAVE_AVX512_KERNELS

#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start some reductions from _mm512_undefined_*(), which it then
// reports as "(may be) used uninitialized" once inlined here (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/fp16.hpp"
#include "core/quant/types.hpp"

#define MINIMA_AVX512_ROWS \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx512vbmi,avx2,fma,f16c")))
#define MINIMA_ROWS_INLINE MINIMA_AVX512_ROWS __attribute__((always_inline)) static inline

namespace minima::avx512 {
namespace {

constexpr int64_t kGroup = 16;  // blocks per group: the 16 lanes of a zmm
// Blocks of activation prepared per pass over the rows (longer rows take several passes, each
// adding its part to out: a function of n only, so the same for every split of the rows).
constexpr int64_t kPassBlocks = 512;
static_assert(kPassBlocks % kGroup == 0);

// Every weight line is requested 4 KiB ahead with a non-temporal hint (prefetchnta): the weights
// are read once per token, and on Zen 5 this kept TinyLlama Q4_0 decode at ~80 t/s where the AVX2
// kernels' two-level prefetch (1 KiB into L1, 4 KiB into L2, tuned on Sapphire Rapids) gave ~63
// and no software prefetch ~63 (the compute between loads leaves the hardware prefetcher behind).
constexpr size_t kPrefetchAhead = 4096;

MINIMA_ROWS_INLINE void prefetch_group(const uint8_t* p, size_t bytes) {
  for (size_t off = 0; off < bytes; off += 64)
    __asm__ volatile("prefetchnta %0" : : "m"(*(p + off + kPrefetchAhead)));
}

// Byte-permute indices, built at compile time. vpermt2b: index value v < 64 takes byte v of the
// first source, 64 <= v < 128 byte v - 64 of the second.
using Index = std::array<uint8_t, 64>;

// Q4_0 quad i (blocks 4i..4i+3 of a group, group-relative bytes [72i, 72i + 72)): register byte
// 16k + e is code byte e of block 4i + k, taken from loads i (bytes 64i..) and i + 1.
constexpr Index q4_codes_index(int i) {
  Index x{};
  for (int k = 0; k < 4; ++k)
    for (int e = 0; e < 16; ++e) x[16 * k + e] = uint8_t(72 * i + 18 * k + 2 + e - 64 * i);
  return x;
}

// After the add tree of a Q4_0 group (reduce_q4), lane L holds block 4·(L % 4) + L / 4.
constexpr int q4_lane_block(int lane) { return 4 * (lane % 4) + lane / 4; }
// After the add tree of a Q8_0 group (reduce_q8), lane L holds block 8·(L / 8) + 2·(L % 4) +
// (L / 4) % 2.
constexpr int q8_lane_block(int lane) { return 8 * (lane / 8) + 2 * (lane % 4) + (lane / 4) % 2; }

// Scales: register bytes 2L, 2L + 1 = the half of the block in lane L, for the blocks whose scale
// lies in loads [first, first + 2) (others: index 0, masked out by the caller). block_bytes: 18 or
// 34.
template <int (*LaneBlock)(int)>
constexpr Index scale_index(int block_bytes, int first) {
  Index x{};
  for (int lane = 0; lane < 16; ++lane) {
    const int off = block_bytes * LaneBlock(lane) - 64 * first;
    if (off < 0 || off + 1 >= 128) continue;
    x[2 * lane] = uint8_t(off);
    x[2 * lane + 1] = uint8_t(off + 1);
  }
  return x;
}

// Bytes 2L, 2L + 1 of the lanes whose block's scale lies in loads [first, first + 2).
template <int (*LaneBlock)(int)>
constexpr uint64_t scale_mask(int block_bytes, int first) {
  uint64_t m = 0;
  for (int lane = 0; lane < 16; ++lane) {
    const int off = block_bytes * LaneBlock(lane) - 64 * first;
    if (off >= 0 && off + 1 < 128) m |= uint64_t{3} << (2 * lane);
  }
  return m;
}

// Q8_0 pair i (blocks 2i, 2i + 1, group-relative bytes [68i, 68i + 68)): register bytes 0..31 are
// block 2i's codes, 32..63 block 2i + 1's, from loads i and i + 1.
constexpr Index q8_codes_index(int i) {
  Index x{};
  for (int e = 0; e < 32; ++e) {
    x[e] = uint8_t(68 * i + 2 + e - 64 * i);
    x[32 + e] = uint8_t(68 * i + 36 + e - 64 * i);
  }
  return x;
}

template <size_t N>
struct Indices {
  alignas(64) std::array<Index, N> v;
};

constexpr Indices<4> kQ4Codes{{q4_codes_index(0), q4_codes_index(1), q4_codes_index(2),
                               q4_codes_index(3)}};
// Q4_0 scales lie in loads 0..4: loads 0–1 hold blocks 0..7, 2–3 blocks 8..14, 4 block 15.
constexpr Indices<3> kQ4Scales{{scale_index<q4_lane_block>(18, 0),
                                scale_index<q4_lane_block>(18, 2),
                                scale_index<q4_lane_block>(18, 4)}};
constexpr uint64_t kQ4ScaleMask2 = scale_mask<q4_lane_block>(18, 2);
constexpr uint64_t kQ4ScaleMask4 = scale_mask<q4_lane_block>(18, 4);
constexpr Indices<8> kQ8Codes{{q8_codes_index(0), q8_codes_index(1), q8_codes_index(2),
                               q8_codes_index(3), q8_codes_index(4), q8_codes_index(5),
                               q8_codes_index(6), q8_codes_index(7)}};
// Q8_0 scales: loads 2j and 2j + 1 hold blocks 4j..4j+3.
constexpr Indices<4> kQ8Scales{
    {scale_index<q8_lane_block>(34, 0), scale_index<q8_lane_block>(34, 2),
     scale_index<q8_lane_block>(34, 4), scale_index<q8_lane_block>(34, 6)}};
constexpr uint64_t kQ8ScaleMask[4] = {
    scale_mask<q8_lane_block>(34, 0), scale_mask<q8_lane_block>(34, 2),
    scale_mask<q8_lane_block>(34, 4), scale_mask<q8_lane_block>(34, 6)};
static_assert((kQ4ScaleMask2 & scale_mask<q4_lane_block>(18, 0)) == 0);
static_assert((kQ4ScaleMask4 & (scale_mask<q4_lane_block>(18, 0) | kQ4ScaleMask2)) == 0);
static_assert((scale_mask<q4_lane_block>(18, 0) | kQ4ScaleMask2 | kQ4ScaleMask4) == 0xFFFFFFFF,
              "every Q4_0 lane's scale is in one pair of loads");
static_assert((kQ8ScaleMask[0] | kQ8ScaleMask[1] | kQ8ScaleMask[2] | kQ8ScaleMask[3]) ==
                  0xFFFFFFFF,
              "every Q8_0 lane's scale is in one pair of loads");

MINIMA_ROWS_INLINE __m512i load_index(const Index& x) { return _mm512_load_si512(x.data()); }

// The group's bytes [0, bytes) into n_loads registers (zero past bytes; nothing past it is read).
template <int NLoads>
MINIMA_ROWS_INLINE void load_group(const uint8_t* g, int64_t bytes, __m512i (&z)[NLoads]) {
#pragma GCC unroll 9
  for (int j = 0; j < NLoads; ++j) {
    const int64_t have = std::clamp<int64_t>(bytes - 64 * j, 0, 64);
    if (have == 64) {
      z[j] = _mm512_loadu_si512(g + 64 * j);
    } else {
      const __mmask64 m = have == 0 ? 0 : ~uint64_t{0} >> (64 - have);
      z[j] = _mm512_maskz_loadu_epi8(m, g + 64 * j);
    }
  }
}

// The prepared Q8_0 activation of one pass, zero-padded to whole groups. Q4_0 and Q8_0 use the
// same storage with different layouts:
//   codes: Q4_0: per quad of blocks 128 bytes, [the first 16 codes of its 4 blocks | the last 16];
//          Q8_0: the blocks' 32 codes in order.
//   init:  per quad (Q4_0) or pair (Q8_0) of blocks, 16 int32: minus each block's offset term in
//          the first lane of the block's lanes, zero elsewhere.
//   d:     per group, the blocks' d_a in the lane order of the add tree.
struct Prepared {
  alignas(64) int8_t codes[kPassBlocks * 32];
  alignas(64) int32_t init[kPassBlocks * 8];
  alignas(64) float d[kPassBlocks];
};

enum class Kind { Q4_0, Q8_0 };

// lane_of[b]: the lane of block b of a group after the add tree (inverse of *_lane_block).
template <int (*LaneBlock)(int)>
constexpr std::array<uint8_t, kGroup> lanes_of_blocks() {
  std::array<uint8_t, kGroup> x{};
  for (int lane = 0; lane < kGroup; ++lane) x[size_t(LaneBlock(lane))] = uint8_t(lane);
  return x;
}
constexpr auto kQ4LaneOf = lanes_of_blocks<q4_lane_block>();
constexpr auto kQ8LaneOf = lanes_of_blocks<q8_lane_block>();

MINIMA_ROWS_INLINE int32_t sum_codes(const int8_t* q) {
  const __m256i w = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)q)),
                                      _mm256_set1_epi16(1));
  const __m256i v = _mm256_madd_epi16(
      _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(q + 16))), _mm256_set1_epi16(1));
  return _mm512_reduce_add_epi32(_mm512_inserti64x4(_mm512_castsi256_si512(w), v, 1));
}

template <Kind K>
MINIMA_AVX512_ROWS void prepare(const BlockQ8_0* y, int64_t nb, Prepared& p) {
  const int64_t padded = (nb + kGroup - 1) / kGroup * kGroup;
  std::memset(p.codes, 0, size_t(padded) * 32);
  std::memset(p.init, 0, size_t(padded) * (K == Kind::Q4_0 ? 16 : 32));
  std::memset(p.d, 0, size_t(padded) * 4);
  for (int64_t b = 0; b < nb; ++b) {
    const int32_t sum = sum_codes(y[b].qs);
    const int64_t in = b % kGroup;
    if constexpr (K == Kind::Q4_0) {
      const int64_t quad = b / 4, k = b % 4;
      std::memcpy(p.codes + 128 * quad + 16 * k, y[b].qs, 16);
      std::memcpy(p.codes + 128 * quad + 64 + 16 * k, y[b].qs + 16, 16);
      p.init[16 * quad + 4 * k] = -8 * sum;
      p.d[b - in + kQ4LaneOf[size_t(in)]] = fp16_to_fp32(y[b].d);
    } else {
      std::memcpy(p.codes + 32 * b, y[b].qs, 32);
      p.init[16 * (b / 2) + 8 * (b % 2)] = -128 * sum;
      p.d[b - in + kQ8LaneOf[size_t(in)]] = fp16_to_fp32(y[b].d);
    }
  }
}

// acc[i]: quad i's lanes (128-bit lane k: block 4i + k) -> lane 4k + i = that block's sum.
MINIMA_ROWS_INLINE __m512i reduce_q4(const __m512i (&s)[4]) {
  const __m512i t01 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(s[0], s[1]), _mm512_unpackhi_epi32(s[0], s[1]));
  const __m512i t23 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(s[2], s[3]), _mm512_unpackhi_epi32(s[2], s[3]));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
}

// s[i]: pair i's lanes (0..7: block 2i, 8..15: block 2i + 1) -> q8_lane_block order.
MINIMA_ROWS_INLINE __m512i reduce_q8(const __m512i (&s)[8]) {
  __m512i u[4];
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j)
    u[j] = _mm512_add_epi32(_mm512_unpacklo_epi32(s[2 * j], s[2 * j + 1]),
                            _mm512_unpackhi_epi32(s[2 * j], s[2 * j + 1]));
  // 128-bit lane c of v0: the sums of pairs 0..3 over their dwords in lane c; v1: pairs 4..7.
  const __m512i v0 =
      _mm512_add_epi32(_mm512_unpacklo_epi64(u[0], u[1]), _mm512_unpackhi_epi64(u[0], u[1]));
  const __m512i v1 =
      _mm512_add_epi32(_mm512_unpacklo_epi64(u[2], u[3]), _mm512_unpackhi_epi64(u[2], u[3]));
  // A block's lanes span two 128-bit lanes (0–1 or 2–3 of its pair's register): add them.
  return _mm512_add_epi32(_mm512_shuffle_i64x2(v0, v1, 0x88), _mm512_shuffle_i64x2(v0, v1, 0xDD));
}

// One row's part over a pass of nb blocks, for T activations at once (T = 1: the one-token dot).
// Weight-side work (loads, permutes, scales) is done once per group; each token then runs the
// same operations on the same values whatever T is, so it gets the one-token bits.
template <Kind K, int T>
MINIMA_ROWS_INLINE void row_part(const uint8_t* row, int64_t nb, const Prepared* const* p,
                                 float* out) {
  constexpr int64_t kBlock = K == Kind::Q4_0 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0);
  constexpr int kLoads = K == Kind::Q4_0 ? 5 : 9;
  static_assert(kLoads * 64 >= kGroup * kBlock && (kLoads - 1) * 64 < kGroup * kBlock);
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t g = 0; g * kGroup < nb; ++g) {
    const uint8_t* grp = row + kGroup * kBlock * g;
    const int64_t blocks = std::min(kGroup, nb - kGroup * g);
    prefetch_group(grp, size_t(kGroup * kBlock));
    __m512i z[kLoads];
    if (blocks == kGroup) {
      load_group<kLoads>(grp, kGroup * kBlock, z);  // constant: no branches once inlined
    } else {
      load_group<kLoads>(grp, blocks * kBlock, z);
    }
    __m512i sc;
    if constexpr (K == Kind::Q4_0) {
      sc = _mm512_permutex2var_epi8(z[0], load_index(kQ4Scales.v[0]), z[1]);
      sc = _mm512_mask_blend_epi8(
          kQ4ScaleMask2, sc, _mm512_permutex2var_epi8(z[2], load_index(kQ4Scales.v[1]), z[3]));
      sc = _mm512_mask_permutexvar_epi8(sc, kQ4ScaleMask4, load_index(kQ4Scales.v[2]), z[4]);
    } else {
      sc = _mm512_permutex2var_epi8(z[0], load_index(kQ8Scales.v[0]), z[1]);
#pragma GCC unroll 3
      for (int j = 1; j < 4; ++j)
        sc = _mm512_mask_blend_epi8(
            kQ8ScaleMask[j], sc,
            _mm512_permutex2var_epi8(z[2 * j], load_index(kQ8Scales.v[j]), z[2 * j + 1]));
    }
    // Lanes past the row's end: zero bytes were loaded, so d_w = 0.
    const __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(sc));

    if constexpr (K == Kind::Q4_0) {
      const __m512i nib = _mm512_set1_epi8(0x0F);
      __m512i lo[4], hi[4];
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        const __m512i c = _mm512_permutex2var_epi8(z[i], load_index(kQ4Codes.v[i]), z[i + 1]);
        lo[i] = _mm512_and_si512(c, nib);
        hi[i] = _mm512_and_si512(_mm512_srli_epi16(c, 4), nib);
      }
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const int8_t* a = p[t]->codes + 512 * g;
        const int32_t* in = p[t]->init + 64 * g;
        __m512i s[4];
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
          s[i] = _mm512_dpbusd_epi32(_mm512_load_si512(in + 16 * i), lo[i],
                                     _mm512_load_si512(a + 128 * i));
          s[i] = _mm512_dpbusd_epi32(s[i], hi[i], _mm512_load_si512(a + 128 * i + 64));
        }
        const __m512 d = _mm512_mul_ps(dw, _mm512_load_ps(p[t]->d + kGroup * g));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(reduce_q4(s)), d, acc[t]);
      }
    } else {
      const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
      __m512i w[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i)
        w[i] = _mm512_xor_si512(
            _mm512_permutex2var_epi8(z[i], load_index(kQ8Codes.v[i]), z[i + 1]), bias);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const int8_t* a = p[t]->codes + 512 * g;
        const int32_t* in = p[t]->init + 128 * g;
        __m512i s[8];
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i)
          s[i] = _mm512_dpbusd_epi32(_mm512_load_si512(in + 16 * i), w[i],
                                     _mm512_load_si512(a + 64 * i));
        const __m512 d = _mm512_mul_ps(dw, _mm512_load_ps(p[t]->d + kGroup * g));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(reduce_q8(s)), d, acc[t]);
      }
    }
  }
  for (int t = 0; t < T; ++t) out[t] = _mm512_reduce_add_ps(acc[t]);
}

template <Kind K, int T>
MINIMA_AVX512_ROWS void rows_multi(const void* w, size_t stride, int64_t n_rows, const void* a,
                                   size_t act_stride, int64_t n, float* out, int64_t ldo) {
  constexpr size_t kBlock = K == Kind::Q4_0 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0);
  const auto* base = static_cast<const uint8_t*>(w);
  const int64_t nb = n / QK8_0;
  Prepared prep[T];
  const Prepared* p[T];
  for (int t = 0; t < T; ++t) p[t] = &prep[t];
  for (int64_t b0 = 0; b0 < nb; b0 += kPassBlocks) {
    const int64_t pb = std::min(kPassBlocks, nb - b0);
    for (int t = 0; t < T; ++t) {
      const auto* y = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) +
                                                         size_t(t) * act_stride);
      prepare<K>(y + b0, pb, prep[t]);
    }
    const uint8_t* row = base + kBlock * size_t(b0);
    for (int64_t r = 0; r < n_rows; ++r, row += stride) {
      float part[T];
      row_part<K, T>(row, pb, p, part);
      for (int t = 0; t < T; ++t) out[t * ldo + r] = b0 == 0 ? part[t] : out[t * ldo + r] + part[t];
    }
  }
}

// One token, rows pulled from src: prepared once when the row fits one pass (every decode matmul
// of the models minima targets); longer rows take rows_multi per chunk (same bits either way).
template <Kind K>
MINIMA_AVX512_ROWS void rows_dyn(const void* w, size_t stride, RowSource& src, const void* a,
                                 int64_t n, float* out) {
  const auto* base = static_cast<const uint8_t*>(w);
  const int64_t nb = n / QK8_0;
  int64_t r0 = 0, r1 = 0;
  if (nb > kPassBlocks) {
    while (src.next(r0, r1))
      rows_multi<K, 1>(base + stride * size_t(r0), stride, r1 - r0, a, 0, n, out + r0, 0);
    return;
  }
  Prepared prep;
  const Prepared* p = &prep;
  prepare<K>(static_cast<const BlockQ8_0*>(a), nb, prep);
  while (src.next(r0, r1)) {
    const uint8_t* row = base + stride * size_t(r0);
    for (int64_t r = r0; r < r1; ++r, row += stride) row_part<K, 1>(row, nb, &p, out + r);
  }
}

template <Kind K>
void rows_one(const void* w, size_t stride, int64_t n_rows, const void* a, int64_t n, float* out) {
  rows_multi<K, 1>(w, stride, n_rows, a, 0, n, out, 0);
}

template <Kind K>
void rows_up_to_4(const void* w, size_t stride, int64_t n_rows, const void* a, size_t act_stride,
                  int64_t n_tok, int64_t n, float* out, int64_t ldo) {
  switch (n_tok) {
    case 4:
      return rows_multi<K, 4>(w, stride, n_rows, a, act_stride, n, out, ldo);
    case 3:
      return rows_multi<K, 3>(w, stride, n_rows, a, act_stride, n, out, ldo);
    case 2:
      return rows_multi<K, 2>(w, stride, n_rows, a, act_stride, n, out, ldo);
    default:
      return rows_multi<K, 1>(w, stride, n_rows, a, act_stride, n, out, ldo);
  }
}

}  // namespace

void put_dot_rows(std::array<DotRowsFn, kDTypeCount>& rows,
                  std::array<DotRowsMultiFn, kDTypeCount>& multi,
                  std::array<DotRowsDynFn, kDTypeCount>& dyn) {
  dyn[static_cast<uint32_t>(DType::Q4_0)] = rows_dyn<Kind::Q4_0>;
  dyn[static_cast<uint32_t>(DType::Q8_0)] = rows_dyn<Kind::Q8_0>;
  rows[static_cast<uint32_t>(DType::Q4_0)] = rows_one<Kind::Q4_0>;
  rows[static_cast<uint32_t>(DType::Q8_0)] = rows_one<Kind::Q8_0>;
  multi[static_cast<uint32_t>(DType::Q4_0)] = rows_up_to_4<Kind::Q4_0>;
  multi[static_cast<uint32_t>(DType::Q8_0)] = rows_up_to_4<Kind::Q8_0>;
}

}  // namespace minima::avx512

#endif  // MINIMA_HAVE_AVX512_KERNELS
