// KV cache of one sequence: F32 keys and values for every layer and position, allocated once for
// n_ctx positions. (The server's paged, shared pool replaces this for batching; the forward pass
// only needs k()/v() row pointers, so that swap stays local.)
#pragma once

#include <cstdint>
#include <vector>

#include "model/model.hpp"

namespace minima {

class KvCache {
 public:
  KvCache(const HParams& hp, int64_t n_ctx);

  int64_t n_ctx() const { return n_ctx_; }
  // k: [n_head_kv * head_dim] of (layer, pos); v: [n_head_kv * head_dim_v]
  float* k(int64_t layer, int64_t pos) {
    return k_.data() + static_cast<size_t>((layer * n_ctx_ + pos) * k_dim_);
  }
  float* v(int64_t layer, int64_t pos) {
    return v_.data() + static_cast<size_t>((layer * n_ctx_ + pos) * v_dim_);
  }
  const float* k(int64_t layer, int64_t pos) const {
    return const_cast<KvCache*>(this)->k(layer, pos);
  }
  const float* v(int64_t layer, int64_t pos) const {
    return const_cast<KvCache*>(this)->v(layer, pos);
  }
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

 private:
  int64_t n_ctx_, k_dim_, v_dim_;
  std::vector<float> k_;  // [n_layer, n_ctx, n_head_kv * head_dim]
  std::vector<float> v_;  // [n_layer, n_ctx, n_head_kv * head_dim_v]
};

}  // namespace minima
