// Scalar references of the GEMM kernel entries (contracts in core/gemm.hpp). Plain loops; each
// output element is a float sum in increasing k with the product rounded before the add (the
// build uses ISO C++ mode, so the compiler does not contract a*b + c into an FMA).
#include <cstring>

#include "core/gemm.hpp"

namespace minima {

void gemm_pack_ref(const float* rows, int64_t ld, int64_t kc, float* panel) {
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t i = 0; i < kGemmPanelRows; ++i) panel[k * kGemmPanelRows + i] = rows[i * ld + k];
  }
}

void gemm_tile_ref(const float* panels, int64_t n_panels, int64_t kc, const float* x, int64_t ldx,
                   int64_t n_tok, float* y, int64_t ldy, bool accumulate) {
  for (int64_t t = 0; t < n_tok; ++t) {
    const float* xt = x + t * ldx;
    for (int64_t p = 0; p < n_panels; ++p) {
      const float* panel = panels + p * kc * kGemmPanelRows;
      float* yt = y + t * ldy + p * kGemmPanelRows;
      // 16 independent sums side by side: still one increasing-k chain per output element.
      float acc[kGemmPanelRows];
      for (int64_t i = 0; i < kGemmPanelRows; ++i) acc[i] = accumulate ? yt[i] : 0.0f;
      for (int64_t k = 0; k < kc; ++k) {
        for (int64_t i = 0; i < kGemmPanelRows; ++i)
          acc[i] += panel[k * kGemmPanelRows + i] * xt[k];
      }
      std::memcpy(yt, acc, sizeof acc);
    }
  }
}

}  // namespace minima
