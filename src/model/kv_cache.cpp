#include "model/kv_cache.hpp"

#include "core/error.hpp"

namespace minima {

KvCache::KvCache(const HParams& hp, int64_t n_ctx)
    : n_ctx_(n_ctx),
      kt_stride_((n_ctx + 7) / 8 * 8),
      n_head_kv_(hp.n_head_kv),
      head_dim_(hp.head_dim),
      v_dim_(hp.n_head_kv * hp.head_dim_v) {
  if (n_ctx <= 0) fail("context size must be positive, got ", n_ctx);
  const double gib =
      double(hp.n_layer) *
      (double(kt_stride_) * double(n_head_kv_ * head_dim_) + double(n_ctx) * double(v_dim_)) * 4.0 /
      (1 << 30);
  if (gib > 64.0)
    fail("a KV cache for ", n_ctx, " positions would need ", gib, " GiB; use a smaller context");
  k_.assign(static_cast<size_t>(hp.n_layer * n_head_kv_ * head_dim_ * kt_stride_), 0.0f);
  v_.assign(static_cast<size_t>(hp.n_layer * n_ctx * v_dim_), 0.0f);
}

void KvCache::store_k(int64_t layer, int64_t pos, const float* k) {
  for (int64_t h = 0; h < n_head_kv_; ++h) {
    float* base =
        k_.data() + static_cast<size_t>((layer * n_head_kv_ + h) * head_dim_ * kt_stride_) + pos;
    for (int64_t d = 0; d < head_dim_; ++d) base[d * kt_stride_] = k[h * head_dim_ + d];
  }
}

}  // namespace minima
