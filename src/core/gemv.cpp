#include "core/gemv.hpp"

#include <algorithm>

namespace minima {

void gemv_rows(const KernelSet& ks, const TensorView& w, int64_t r0, int64_t r1, const uint8_t* act,
               size_t act_stride, int64_t n_tok, float* y, int64_t ldy) {
  const DotRowsFn dot = ks.dot_rows_for(w.type);
  if (n_tok == 1) {
    dot(w.row(r0), w.row_bytes, r1 - r0, act, w.ne0, y + r0);
    return;
  }
  // Several tokens: every token passes over a chunk of rows (~64 KB, which stays in L2) before
  // the next chunk, so the weights still come from memory once. Chunks of at least 16 rows keep
  // the kernels' once-per-call activation preparation small next to the rows' work.
  constexpr size_t kChunkBytes = size_t{64} << 10;
  const int64_t chunk = std::max<int64_t>(16, static_cast<int64_t>(kChunkBytes / w.row_bytes));
  const DotRowsMultiFn multi = ks.dot_rows_multi[static_cast<uint32_t>(w.type)];
  for (int64_t r = r0; r < r1; r += chunk) {
    const int64_t nr = std::min(chunk, r1 - r);
    if (multi != nullptr) {
      // Up to four tokens per pass over the chunk: the weights are unpacked once for all four
      // (same bits per token as the single-token kernel).
      for (int64_t t = 0; t < n_tok; t += kDotRowsMultiMax)
        multi(w.row(r), w.row_bytes, nr, act + static_cast<size_t>(t) * act_stride, act_stride,
              std::min(kDotRowsMultiMax, n_tok - t), w.ne0, y + t * ldy + r, ldy);
      continue;
    }
    for (int64_t t = 0; t < n_tok; ++t)
      dot(w.row(r), w.row_bytes, nr, act + static_cast<size_t>(t) * act_stride, w.ne0,
          y + t * ldy + r);
  }
}

}  // namespace minima
