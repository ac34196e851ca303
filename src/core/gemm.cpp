#include "core/gemm.hpp"

namespace minima {

// Placeholder until the blocked kernel lands: dequantize a row, dot it with every token.
int64_t gemm_scratch_floats(int64_t k) { return k; }

void gemm_rows(const KernelSet& ks, const TensorView& w, int64_t r0, int64_t r1, const float* x, int64_t n_tok,
               float* y, int64_t ldy, float* scratch) {
  const int64_t k = w.ne0;
  for (int64_t r = r0; r < r1; ++r) {
    ks.dequantize_for(w.type)(w.row(r), scratch, k);
    for (int64_t t = 0; t < n_tok; ++t) y[t * ldy + r] = ks.dot_for(DType::F32)(scratch, x + t * k, k);
  }
}

}  // namespace minima
