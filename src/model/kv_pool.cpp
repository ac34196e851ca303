#include "model/kv_pool.hpp"

#include <algorithm>

#include "core/attention.hpp"
#include "core/error.hpp"

namespace minima {

KvPool::KvPool(const HParams& hp, int64_t n_blocks, int64_t block_size)
    : n_layer_(hp.n_layer),
      n_blocks_(n_blocks),
      block_size_(block_size),
      n_head_kv_(hp.n_head_kv),
      head_dim_(hp.head_dim),
      head_dim_v_(hp.head_dim_v),
      v_dim_(hp.n_head_kv * hp.head_dim_v) {
  if (block_size <= 0 || block_size % 8 != 0 || kAttnBlock % block_size != 0)
    fail("KV block size must be 8, 16, 32 or 64, got ", block_size);
  if (n_blocks <= 0 || n_blocks > (int64_t(1) << 30))
    fail("KV pool needs 1..2^30 blocks, got ", n_blocks);
  const double gib = double(hp.n_layer) * double(n_blocks) * double(block_size) *
                     double(n_head_kv_ * head_dim_ + v_dim_) * 4.0 / (1 << 30);
  if (gib > 64.0)
    fail("a KV cache of ", n_blocks * block_size, " positions would need ", gib,
         " GiB; use a smaller context");
  k_.assign(static_cast<size_t>(hp.n_layer * n_blocks * n_head_kv_ * head_dim_ * block_size), 0.0f);
  v_.assign(static_cast<size_t>(hp.n_layer * n_blocks * block_size * v_dim_), 0.0f);
}

void KvPool::store(int64_t layer, int32_t block, int64_t slot, const float* k, const float* v) {
  for (int64_t h = 0; h < n_head_kv_; ++h) {
    float* kt = k_.data() + static_cast<size_t>(((layer * n_blocks_ + block) * n_head_kv_ + h) *
                                                head_dim_ * block_size_);
    for (int64_t d = 0; d < head_dim_; ++d) kt[d * block_size_ + slot] = k[h * head_dim_ + d];
  }
  float* vr =
      v_.data() + static_cast<size_t>(((layer * n_blocks_ + block) * block_size_ + slot) * v_dim_);
  for (int64_t i = 0; i < v_dim_; ++i) vr[i] = v[i];
}

void KvPool::copy_block(int32_t src, int32_t dst) {
  const size_t kb = static_cast<size_t>(k_block_stride()),
               vb = static_cast<size_t>(v_block_stride());
  for (int64_t l = 0; l < n_layer_; ++l) {
    const size_t kl = static_cast<size_t>(l * n_blocks_) * kb,
                 vl = static_cast<size_t>(l * n_blocks_) * vb;
    std::copy_n(k_.begin() + static_cast<std::ptrdiff_t>(kl + static_cast<size_t>(src) * kb), kb,
                k_.begin() + static_cast<std::ptrdiff_t>(kl + static_cast<size_t>(dst) * kb));
    std::copy_n(v_.begin() + static_cast<std::ptrdiff_t>(vl + static_cast<size_t>(src) * vb), vb,
                v_.begin() + static_cast<std::ptrdiff_t>(vl + static_cast<size_t>(dst) * vb));
  }
}

}  // namespace minima
