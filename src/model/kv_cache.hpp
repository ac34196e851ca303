// KV cache of one sequence, allocated once for n_ctx positions. Keys are stored transposed per
// head ([layer][kv_head][head_dim][kt_stride]) so attention scores are broadcast-FMA loops over
// contiguous positions (core/attention.hpp); values are row-major per position
// ([layer][pos][n_head_kv * head_dim_v]). F32 throughout. (The server's paged, shared pool will
// replace this; the forward pass only uses the accessors below.)
#pragma once

#include <cstdint>
#include <vector>

#include "model/model.hpp"

namespace minima {

class KvCache {
 public:
  KvCache(const HParams& hp, int64_t n_ctx);

  int64_t n_ctx() const { return n_ctx_; }
  // Row length of the transposed keys: n_ctx rounded up to 8, so kernels may read whole vectors.
  int64_t kt_stride() const { return kt_stride_; }
  // Keys of one head: [head_dim, kt_stride], element (d, pos) at kt(layer, head)[d * kt_stride +
  // pos].
  const float* kt(int64_t layer, int64_t head) const {
    return k_.data() + static_cast<size_t>((layer * n_head_kv_ + head) * head_dim_ * kt_stride_);
  }
  // Stores the keys of all heads at one position. k: [n_head_kv * head_dim]
  void store_k(int64_t layer, int64_t pos, const float* k);
  // v: [n_head_kv * head_dim_v] of (layer, pos)
  float* v(int64_t layer, int64_t pos) {
    return v_.data() + static_cast<size_t>((layer * n_ctx_ + pos) * v_dim_);
  }
  const float* v(int64_t layer, int64_t pos) const {
    return const_cast<KvCache*>(this)->v(layer, pos);
  }
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

 private:
  int64_t n_ctx_, kt_stride_, n_head_kv_, head_dim_, v_dim_;
  std::vector<float> k_;  // [n_layer, n_head_kv, head_dim, kt_stride]
  std::vector<float> v_;  // [n_layer, n_ctx, n_head_kv * head_dim_v]
};

}  // namespace minima
