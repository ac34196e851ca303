#include "core/gemv.hpp"

namespace minima {

void gemv_rows(const KernelSet& ks, const TensorView& w, int64_t r0, int64_t r1, const uint8_t* act,
               size_t act_stride, int64_t n_tok, float* y, int64_t ldy) {
  const VecDotFn dot = ks.dot_for(w.type);
  for (int64_t r = r0; r < r1; ++r) {
    const void* wr = w.row(r);
    for (int64_t t = 0; t < n_tok; ++t) y[t * ldy + r] = dot(wr, act + static_cast<size_t>(t) * act_stride, w.ne0);
  }
}

}  // namespace minima
