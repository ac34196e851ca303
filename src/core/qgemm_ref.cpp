// Scalar references of the integer GEMM kernel entries (contracts in core/qgemm.hpp): plain loops,
// the integer sum in int32, one std::fma per block as the contract says.
#include <cmath>
#include <cstring>

#include "core/fp16.hpp"
#include "core/qgemm.hpp"

namespace minima {
namespace {

constexpr int64_t kP = kQgemmPanelRows;

// Code j (0..31) of a block and its fp16 scale, per format.
struct Q4_0Codes {
  static uint8_t code(const BlockQ4_0& b, int j) {
    return j < 16 ? b.qs[j] & 0x0F : b.qs[j - 16] >> 4;  // already u = w + 8
  }
};
struct Q8_0Codes {
  static uint8_t code(const BlockQ8_0& b, int j) {
    return static_cast<uint8_t>(static_cast<int>(b.qs[j]) + 128);
  }
};

template <class Block, class Codes>
void pack_ref(const void* rows, size_t row_stride, int64_t n_rows, int64_t kc, uint8_t* panel) {
  const int64_t nb = kc / kQgemmBlock;
  for (int64_t b = 0; b < nb; ++b) {
    uint8_t* out = panel + b * kQgemmBlockBytes;
    float scales[kP] = {};
    for (int64_t i = 0; i < kP; ++i) {
      if (i >= n_rows) {
        for (int j = 0; j < 32; ++j) out[(j / 4) * 64 + i * 4 + j % 4] = 0;
        continue;
      }
      Block blk;
      std::memcpy(
          &blk,
          static_cast<const uint8_t*>(rows) + size_t(i) * row_stride + size_t(b) * sizeof(Block),
          sizeof blk);
      for (int j = 0; j < 32; ++j) out[(j / 4) * 64 + i * 4 + j % 4] = Codes::code(blk, j);
      scales[i] = fp16_to_fp32(blk.d);
    }
    std::memcpy(out + 512, scales, sizeof scales);
  }
}

}  // namespace

void qgemm_pack_q4_0_ref(const void* rows, size_t row_stride, int64_t n_rows, int64_t kc,
                         uint8_t* panel) {
  pack_ref<BlockQ4_0, Q4_0Codes>(rows, row_stride, n_rows, kc, panel);
}

void qgemm_pack_q8_0_ref(const void* rows, size_t row_stride, int64_t n_rows, int64_t kc,
                         uint8_t* panel) {
  pack_ref<BlockQ8_0, Q8_0Codes>(rows, row_stride, n_rows, kc, panel);
}

void qgemm_tile_ref(const uint8_t* panels, int64_t n_panels, int64_t kc, const QActs& a,
                    int64_t n_tok, float* y, int64_t ldy, bool accumulate) {
  const int64_t nb = kc / kQgemmBlock, ldb = a.k / kQgemmBlock;
  for (int64_t t = 0; t < n_tok; ++t) {
    for (int64_t p = 0; p < n_panels; ++p) {
      for (int64_t i = 0; i < kP; ++i) {
        float acc = accumulate ? y[t * ldy + p * kP + i] : 0.0f;
        for (int64_t b = 0; b < nb; ++b) {
          const uint8_t* blk = panels + (p * nb + b) * kQgemmBlockBytes;
          const int8_t* q = a.q + t * a.k + b * kQgemmBlock;
          int32_t s = a.c[t * ldb + b];
          for (int j = 0; j < 32; ++j) s += int32_t(blk[(j / 4) * 64 + i * 4 + j % 4]) * q[j];
          float dw;
          std::memcpy(&dw, blk + 512 + 4 * i, 4);
          acc = std::fma(float(s), dw * a.d[t * ldb + b], acc);
        }
        y[t * ldy + p * kP + i] = acc;
      }
    }
  }
}

}  // namespace minima
