// Causal attention of a tile of query rows against one KV head, with an online softmax over
// blocks of kAttnBlock positions (flash-attention style): scores exist only for the current block,
// so memory does not grow with the context and no [n_q, n_ctx] matrix is ever formed.
//
// Keys are stored transposed per head ("kt": kt[d * kt_stride + p]), so the scores of one query
// row against a block of positions are a broadcast-FMA loop over d with no horizontal sums; values
// stay row-major (v[p * v_stride + i]).
#pragma once

#include <cstdint>

namespace minima {

inline constexpr int64_t kAttnBlock = 64;    // positions per softmax block
inline constexpr int64_t kAttnMaxRows = 64;  // query rows per tile

struct AttentionTile {
  const float* q = nullptr;  // [n_rows, hd], row stride q_stride
  int64_t q_stride = 0;
  const int64_t* limit = nullptr;  // [n_rows] visible positions of each row: attends to [0, limit)
  int64_t n_rows = 0;              // <= kAttnMaxRows
  const float* kt = nullptr;       // keys of this head, transposed: [hd, kt_stride]
  int64_t kt_stride = 0;
  const float* v = nullptr;  // values of this head: [positions, v_stride]
  int64_t v_stride = 0;
  int64_t hd = 0, hdv = 0;
  float scale = 1.0f;    // applied to q·k
  float* out = nullptr;  // [n_rows, hdv], row stride out_stride
  int64_t out_stride = 0;
};

// Floats of per-thread scratch an attention kernel needs.
inline constexpr int64_t kAttnScratchFloats = kAttnMaxRows * (kAttnBlock + 2);

// Scalar reference (std::exp, float accumulation in position order).
void attention_tile_ref(const AttentionTile& t, float* scratch);

}  // namespace minima
