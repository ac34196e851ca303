// Quantization recipes: a pure type ("Q4_0": every 2-D weight in that type) or one of the mixed
// presets ("Q4_K_M"), which keep the tensors that hurt most when coarsened at higher precision.
// Used by init-model now and by `minima quantize` later.
//
// Mixed-preset policy (ours, in the spirit of llama.cpp's defaults so files are comparable):
//   output (or the tied token embedding)           Q6_K
//   Q4_K_M / Q5_K_M: attn_v and ffn_down in the first and last eighth of the layers and every
//                    third layer between them      Q6_K
//   Q3_K_M: attn_v Q5_K in layers 0-1, else Q4_K; attn_output and ffn_down Q4_K
//   everything else                                the preset's base type (Q3_K / Q4_K / Q5_K)
// A tensor whose row length does not fit a K-quant block falls back to a 32-block type of similar
// size (Q2_K/Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0), then to F16.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/quant/types.hpp"

namespace minima {

struct QuantRecipe {
  std::string name;    // "Q4_K_M"
  DType base;          // type of the ordinary weights
  bool mixed = false;  // a _M preset
  uint32_t file_type;  // general.file_type (llama.cpp's LLAMA_FTYPE numbering)
};

// F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q3_K_M, Q4_K_M,
// Q5_K_M (case-insensitive); nullopt otherwise.
std::optional<QuantRecipe> parse_quant_recipe(std::string_view name);
std::string quant_recipe_names();

// Type of a 2-D weight. layer: block index, or -1 for tensors outside the blocks. is_output: the
// output projection (or the token embedding when it doubles as the output).
DType weight_type_for(const QuantRecipe& r, std::string_view tensor_name, int64_t layer,
                      int64_t n_layer, bool is_output, int64_t row_length);

}  // namespace minima
