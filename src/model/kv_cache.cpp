#include "model/kv_cache.hpp"

#include "core/error.hpp"

namespace minima {

KvCache::KvCache(const HParams& hp, int64_t n_ctx)
    : n_ctx_(n_ctx), k_dim_(hp.n_head_kv * hp.head_dim), v_dim_(hp.n_head_kv * hp.head_dim_v) {
  if (n_ctx <= 0) fail("context size must be positive, got ", n_ctx);
  const double gib = double(hp.n_layer) * double(n_ctx) * double(k_dim_ + v_dim_) * 4.0 / (1 << 30);
  if (gib > 64.0)
    fail("a KV cache for ", n_ctx, " positions would need ", gib, " GiB; use a smaller context");
  k_.assign(static_cast<size_t>(hp.n_layer * n_ctx * k_dim_), 0.0f);
  v_.assign(static_cast<size_t>(hp.n_layer * n_ctx * v_dim_), 0.0f);
}

}  // namespace minima
