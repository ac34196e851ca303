// Paged KV storage: one arena of fixed-size blocks shared by every sequence that uses it. A
// sequence owns a block table (block ids in position order); position p of the sequence lives in
// slot p % block_size of block table[p / block_size]. Within a block, per layer and KV head, keys
// are transposed ([head_dim][block_size]) for the attention kernel (core/attention.hpp); values
// are row-major per position ([block_size][n_head_kv * head_dim_v]). F32.
//
// The pool is only storage: which blocks are free, shared or cached is decided by its owner (a
// Session, or the server's engine).
#pragma once

#include <cstdint>
#include <vector>

#include "model/model.hpp"

namespace minima {

class KvPool {
 public:
  // block_size: a multiple of 8 dividing 64 (8, 16, 32, 64).
  KvPool(const HParams& hp, int64_t n_blocks, int64_t block_size);

  int64_t n_blocks() const { return n_blocks_; }
  int64_t block_size() const { return block_size_; }
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

  // Writes the keys k: [n_head_kv * head_dim] and values v: [n_head_kv * head_dim_v] of one
  // position into (block, slot) of a layer.
  void store(int64_t layer, int32_t block, int64_t slot, const float* k, const float* v);
  // Copies every layer's keys and values of block src into block dst (forking a sequence whose
  // last block is partly filled).
  void copy_block(int32_t src, int32_t dst);

  // Addressing for AttentionTile: the base of (layer, head) and the distance between blocks.
  const float* k_base(int64_t layer, int64_t head) const {
    return k_.data() +
           static_cast<size_t>((layer * n_blocks_ * n_head_kv_ + head) * head_dim_ * block_size_);
  }
  int64_t k_block_stride() const { return n_head_kv_ * head_dim_ * block_size_; }
  const float* v_base(int64_t layer, int64_t head) const {
    return v_.data() +
           static_cast<size_t>(layer * n_blocks_ * block_size_ * v_dim_ + head * head_dim_v_);
  }
  int64_t v_block_stride() const { return block_size_ * v_dim_; }
  int64_t v_row_stride() const { return v_dim_; }

 private:
  int64_t n_layer_, n_blocks_, block_size_, n_head_kv_, head_dim_, head_dim_v_, v_dim_;
  std::vector<float> k_;  // [n_layer, n_blocks, n_head_kv, head_dim, block_size]
  std::vector<float> v_;  // [n_layer, n_blocks, block_size, n_head_kv * head_dim_v]
};

}  // namespace minima
