// Causal attention of a tile of query rows against one KV head, with an online softmax over
// blocks of kAttnBlock positions (flash-attention style): scores exist only for the current block,
// so memory does not grow with the context and no [n_q, n_ctx] matrix is ever formed.
//
// The keys and values live in a paged pool: position p is slot p % block_size of pool block
// table[p / block_size]. Inside a block keys are stored transposed ([head_dim][block_size]), so
// the scores of one query row against a run of positions are a broadcast-FMA loop over the head
// dimension with no horizontal sums; values are row-major ([block_size][v_row_stride]).
#pragma once

#include <cstdint>

namespace minima {

inline constexpr int64_t kAttnBlock = 64;    // positions per softmax step
inline constexpr int64_t kAttnMaxRows = 64;  // query rows per tile

struct AttentionTile {
  const float* q = nullptr;  // [n_rows, hd], row stride q_stride
  int64_t q_stride = 0;
  const int64_t* limit = nullptr;  // [n_rows] visible positions of each row: attends to [0, limit)
  int64_t n_rows = 0;              // <= kAttnMaxRows

  const int32_t* table = nullptr;  // pool block of each run of block_size positions
  int64_t block_size = 0;          // a multiple of 8 that divides kAttnBlock (8, 16, 32 or 64)
  const float* k_base =
      nullptr;  // keys of pool block b: k_base + b * k_block_stride, [hd][block_size]
  int64_t k_block_stride = 0;
  const float* v_base =
      nullptr;  // values of pool block b: v_base + b * v_block_stride, [block_size][v_row_stride]
  int64_t v_block_stride = 0;
  int64_t v_row_stride = 0;

  int64_t hd = 0, hdv = 0;
  float scale = 1.0f;    // applied to q·k
  float* out = nullptr;  // [n_rows, hdv], row stride out_stride
  int64_t out_stride = 0;

  const float* key_block(int64_t p) const {
    return k_base + table[p / block_size] * k_block_stride;
  }
  const float* value_row(int64_t p) const {
    return v_base + table[p / block_size] * v_block_stride + (p % block_size) * v_row_stride;
  }
};

// Floats of per-thread scratch an attention kernel needs.
// (m and l per row, and the scores of up to four rows at a time.)
inline constexpr int64_t kAttnScratchFloats = kAttnMaxRows * 2 + kAttnBlock * 4;

// Scalar reference (std::exp, float accumulation in position order).
void attention_tile_ref(const AttentionTile& t, float* scratch);

}  // namespace minima
