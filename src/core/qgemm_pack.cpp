// Repacking weight rows into integer-GEMM panels (layout: core/qgemm.hpp): the scalar reference
// pack (codes unpacked by plain loops per format, written in the panel's group order) and the
// scale rows every pack shares, floats computed exactly as the reference dequantizers compute
// them (so the panel's w = d·(u − bias) or d·u + n is the dequantized value).
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/fp16.hpp"
#include "core/qgemm.hpp"
#include "core/quant/kquant_scales.hpp"

namespace minima {
namespace {

constexpr int64_t kP = kQgemmPanelRows;

// Codes (u = code + bias) of block b (32 elements) of a row starting at a k-range's first block.
void block_q4_0(const uint8_t* row, int64_t b, uint8_t* u) {
  BlockQ4_0 x;
  std::memcpy(&x, row + b * int64_t(sizeof x), sizeof x);
  for (int j = 0; j < 16; ++j) {
    u[j] = x.qs[j] & 0x0F;
    u[j + 16] = x.qs[j] >> 4;
  }
}

void block_q8_0(const uint8_t* row, int64_t b, uint8_t* u) {
  BlockQ8_0 x;
  std::memcpy(&x, row + b * int64_t(sizeof x), sizeof x);
  for (int j = 0; j < 32; ++j) u[j] = static_cast<uint8_t>(x.qs[j] + 128);
}

// Q4_K / Q5_K: sub-block j = b % 8 of super-block b / 8 (5th bit from qh for Q5_K).
template <bool kFive>
void block_4k5k(const uint8_t* row, int64_t b, uint8_t* u) {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
  const auto* x = reinterpret_cast<const Block*>(row) + b / 8;
  const int j = static_cast<int>(b % 8);
  const uint8_t* qs = x->qs + 32 * (j / 2);
  for (int l = 0; l < 32; ++l) {
    uint8_t v = (j & 1) ? qs[l] >> 4 : qs[l] & 0x0F;
    if constexpr (kFive) v = static_cast<uint8_t>(v | ((x->qh[l] >> j) & 1) << 4);
    u[l] = v;
  }
}

// Q6_K: elements 32j .. 32j+31 of super-block b / 8 (j = b % 8), raw 6-bit codes (bias 32).
void block_q6_k(const uint8_t* row, int64_t b, uint8_t* u) {
  const auto* x = reinterpret_cast<const BlockQ6_K*>(row) + b / 8;
  const int j = static_cast<int>(b % 8), h = j / 4, quarter = j % 4;
  const uint8_t* ql = x->ql + 64 * h + 32 * (quarter & 1);
  const uint8_t* qh = x->qh + 32 * h;
  for (int l = 0; l < 32; ++l) {
    const int lo = quarter < 2 ? ql[l] & 15 : ql[l] >> 4;
    u[l] = static_cast<uint8_t>(lo | ((qh[l] >> (2 * quarter)) & 3) << 4);
  }
}

// The scale rows of blocks [0, nb) of a row: f0 (d_w, or d_lo) and f1 (the negated min, or d_hi);
// d·sc and −dmin·m for the K-quants as dequantize_4k5k computes them.
void scales_row(DType t, const uint8_t* row, int64_t nb, float* f0, float* f1) {
  switch (t) {
    case DType::Q4_0:
    case DType::Q8_0: {
      const size_t size = t == DType::Q4_0 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0);
      for (int64_t b = 0; b < nb; ++b) {
        uint16_t d;
        std::memcpy(&d, row + size_t(b) * size, 2);
        f0[b] = fp16_to_fp32(d);
      }
      return;
    }
    case DType::Q4_K:
    case DType::Q5_K: {
      const size_t size = t == DType::Q4_K ? sizeof(BlockQ4_K) : sizeof(BlockQ5_K);
      for (int64_t i = 0; i < nb / 8; ++i) {
        // d, dmin and scales sit at the same offsets in both formats.
        BlockQ4_K x;
        std::memcpy(&x, row + size_t(i) * size, 4 + K_SCALE_SIZE);
        uint8_t sc[8], m[8];
        quant::unpack_scales_q4k(x.scales, sc, m);
        const float d = fp16_to_fp32(x.d), dmin = fp16_to_fp32(x.dmin);
        for (int j = 0; j < 8; ++j) {
          f0[8 * i + j] = d * float(sc[j]);
          f1[8 * i + j] = -(dmin * float(m[j]));
        }
      }
      return;
    }
    case DType::Q6_K: {
      const auto* x = reinterpret_cast<const BlockQ6_K*>(row);
      for (int64_t i = 0; i < nb / 8; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < 8; ++j) {
          f0[8 * i + j] = d * float(x[i].scales[2 * j]);
          f1[8 * i + j] = d * float(x[i].scales[2 * j + 1]);
        }
      }
      return;
    }
    default:
      return;
  }
}

using BlockFn = void (*)(const uint8_t* row, int64_t b, uint8_t* u);

BlockFn block_fn(DType t) {
  switch (t) {
    case DType::Q4_0:
      return block_q4_0;
    case DType::Q8_0:
      return block_q8_0;
    case DType::Q4_K:
      return block_4k5k<false>;
    case DType::Q5_K:
      return block_4k5k<true>;
    case DType::Q6_K:
      return block_q6_k;
    default:
      return nullptr;
  }
}

}  // namespace

QgemmKind qgemm_kind(DType t) {
  switch (t) {
    case DType::Q4_K:
    case DType::Q5_K:
      return QgemmKind::Min;
    case DType::Q6_K:
      return QgemmKind::Halves;
    default:
      return QgemmKind::Plain;
  }
}

int qgemm_bias(DType t) {
  switch (t) {
    case DType::Q4_0:
      return 8;
    case DType::Q8_0:
      return 128;
    case DType::Q6_K:
      return 32;
    default:
      return 0;
  }
}

void qgemm_pack_scales(DType t, const void* rows, size_t row_stride, int64_t n_rows, int64_t kc,
                       uint8_t* panel) {
  const int64_t nb = kc / kQgemmBlock, bytes = qgemm_block_bytes(qgemm_kind(t));
  const bool two = bytes > kQgemmCodeBytes + 64;
  const int64_t bs = std::max<int64_t>(type_info(t).block_size, kQgemmBlock);
  // Eight blocks (one K-quant super-block) of all 16 rows at a time, then each block's scale rows
  // written whole: rows are read in order, the panel's 64-byte rows written once.
  constexpr int64_t kGroup = 8;
  for (int64_t b0 = 0; b0 < nb; b0 += kGroup) {
    const int64_t n = std::min(kGroup, nb - b0);
    float f0[kP][kGroup] = {}, f1[kP][kGroup] = {};
    const size_t offset = size_t(b0 * kQgemmBlock / bs) * type_info(t).type_size;
    for (int64_t i = 0; i < n_rows; ++i)
      scales_row(t, static_cast<const uint8_t*>(rows) + size_t(i) * row_stride + offset, n, f0[i],
                 f1[i]);
    for (int64_t b = 0; b < n; ++b) {
      float c0[kP], c1[kP];
      for (int64_t i = 0; i < kP; ++i) {
        c0[i] = f0[i][b];
        c1[i] = f1[i][b];
      }
      uint8_t* out = panel + (b0 + b) * bytes + kQgemmCodeBytes;
      std::memcpy(out, c0, sizeof c0);
      if (two) std::memcpy(out + 64, c1, sizeof c1);
    }
  }
}

void qgemm_pack_ref(DType t, const void* rows, size_t row_stride, int64_t n_rows, int64_t kc,
                    uint8_t* panel) {
  const BlockFn block = block_fn(t);
  const int64_t bytes = qgemm_block_bytes(qgemm_kind(t));
  uint8_t codes[32];
  for (int64_t b = 0; b < kc / kQgemmBlock; ++b) {
    uint8_t* out = panel + b * bytes;
    for (int64_t i = 0; i < kP; ++i) {
      if (i < n_rows) {
        block(static_cast<const uint8_t*>(rows) + size_t(i) * row_stride, b, codes);
      } else {
        std::memset(codes, 0, sizeof codes);
      }
      for (int j = 0; j < 32; ++j) out[(j / 4) * 64 + 4 * i + j % 4] = codes[j];
    }
  }
  qgemm_pack_scales(t, rows, row_stride, n_rows, kc, panel);
}

}  // namespace minima
