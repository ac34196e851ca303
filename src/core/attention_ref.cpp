#include <algorithm>
#include <cmath>

#include "core/attention.hpp"

namespace minima {

void attention_tile_ref(const AttentionTile& t, float* scratch) {
  float* m = scratch;                 // [n_rows] running max
  float* l = scratch + kAttnMaxRows;  // [n_rows] running sum of exp
  float* s = l + kAttnMaxRows;        // [kAttnBlock] scores of one row
  int64_t max_limit = 0;
  for (int64_t i = 0; i < t.n_rows; ++i) {
    m[i] = -INFINITY;
    l[i] = 0.0f;
    std::fill(t.out + i * t.out_stride, t.out + i * t.out_stride + t.hdv, 0.0f);
    max_limit = std::max(max_limit, t.limit[i]);
  }
  for (int64_t p0 = 0; p0 < max_limit; p0 += kAttnBlock) {
    for (int64_t i = 0; i < t.n_rows; ++i) {
      const int64_t n = std::min(kAttnBlock, t.limit[i] - p0);
      if (n <= 0) continue;
      const float* q = t.q + i * t.q_stride;
      float mb = -INFINITY;
      for (int64_t j = 0; j < n; ++j) {
        const int64_t p = p0 + j;
        const float* kt = t.key_block(p) + p % t.block_size;
        float acc = 0.0f;
        for (int64_t d = 0; d < t.hd; ++d) acc += q[d] * kt[d * t.block_size];
        s[j] = acc * t.scale;
        mb = std::max(mb, s[j]);
      }
      const float m_new = std::max(m[i], mb);
      const float alpha = std::exp(m[i] - m_new);  // 0 on the first block (m = -inf)
      float* o = t.out + i * t.out_stride;
      l[i] *= alpha;
      for (int64_t d = 0; d < t.hdv; ++d) o[d] *= alpha;
      for (int64_t j = 0; j < n; ++j) {
        const float w = std::exp(s[j] - m_new);
        l[i] += w;
        const float* v = t.value_row(p0 + j);
        for (int64_t d = 0; d < t.hdv; ++d) o[d] += w * v[d];
      }
      m[i] = m_new;
    }
  }
  for (int64_t i = 0; i < t.n_rows; ++i) {
    if (t.limit[i] <= 0) continue;  // a row that sees nothing keeps zeros
    const float inv = 1.0f / l[i];
    for (int64_t d = 0; d < t.hdv; ++d) t.out[i * t.out_stride + d] *= inv;
  }
}

}  // namespace minima
