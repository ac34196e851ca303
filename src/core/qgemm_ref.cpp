// Scalar references of the integer GEMM kernel entries (contracts in core/qgemm.hpp): plain loops,
// integer sums in int32, one std::fma per term as the contract says.
#include <cmath>
#include <cstring>

#include "core/qgemm.hpp"

namespace minima {

void qgemm_tile_ref(const uint8_t* panels, int64_t n_panels, int64_t kc, QgemmKind kind,
                    const QActs& a, int64_t n_tok, float* y, int64_t ldy, bool accumulate) {
  constexpr int64_t kP = kQgemmPanelRows;
  const int64_t nb = kc / kQgemmBlock, bytes = qgemm_block_bytes(kind);
  for (int64_t t = 0; t < n_tok; ++t) {
    for (int64_t p = 0; p < n_panels; ++p) {
      for (int64_t i = 0; i < kP; ++i) {
        float acc = accumulate ? y[t * ldy + p * kP + i] : 0.0f;
        for (int64_t b = 0; b < nb; ++b) {
          const uint8_t* blk = panels + (p * nb + b) * bytes;
          const QActs ab = a.at(t, b);
          float f[2];
          std::memcpy(&f[0], blk + kQgemmCodeBytes + 4 * i, 4);
          std::memcpy(&f[1], blk + kQgemmCodeBytes + 64 + 4 * i, 4);
          // Σ u·q over elements [j0, j1) of the block.
          const auto dot = [&](int j0, int j1) {
            int32_t s = 0;
            for (int j = j0; j < j1; ++j) s += int32_t(blk[(j / 4) * 64 + i * 4 + j % 4]) * ab.q[j];
            return s;
          };
          switch (kind) {
            case QgemmKind::Plain:
              acc = std::fma(float(ab.c32[0] + dot(0, 32)), f[0] * ab.d[0], acc);
              break;
            case QgemmKind::Min:
              acc = std::fma(float(dot(0, 32)), f[0] * ab.d[0], acc);
              acc = std::fma(ab.s[0], f[1] * ab.d[0], acc);
              break;
            case QgemmKind::Halves:
              acc = std::fma(float(ab.c16[0] + dot(0, 16)), f[0] * ab.d[0], acc);
              acc = std::fma(float(ab.c16[1] + dot(16, 32)), f[1] * ab.d[0], acc);
              break;
          }
        }
        y[t * ldy + p * kP + i] = acc;
      }
    }
  }
}

}  // namespace minima
