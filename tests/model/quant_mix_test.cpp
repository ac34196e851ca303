// The mixed-preset policy, pinned on the layer pattern the conformance pack's llama.cpp files show
// (2 layers: Q4_K_M keeps blk.1.attn_v / ffn_down and the output at Q6_K; Q3_K_M raises attn_v to
// Q5_K and attn_output / ffn_down to Q4_K), and the fallbacks for rows that fit no K-quant block.
#include <gtest/gtest.h>

#include "model/quant_mix.hpp"

namespace minima {
namespace {

DType type_of(const char* recipe, const char* name, int64_t layer, int64_t n_layer,
              bool out = false, int64_t row = 2048) {
  return weight_type_for(*parse_quant_recipe(recipe), name, layer, n_layer, out, row);
}

TEST(QuantMix, ParsesEveryRecipeCaseInsensitively) {
  for (const char* n : {"f32", "F16", "bf16", "q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K",
                        "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q3_K_M", "q4_k_m", "Q5_K_M"})
    EXPECT_TRUE(parse_quant_recipe(n).has_value()) << n;
  EXPECT_FALSE(parse_quant_recipe("Q4_K_S").has_value());
  EXPECT_FALSE(parse_quant_recipe("IQ2_XXS").has_value());
  EXPECT_EQ(parse_quant_recipe("q4_k_m")->file_type, 15u);
}

TEST(QuantMix, PureTypesAreUniform) {
  EXPECT_EQ(type_of("Q4_0", "blk.0.attn_v.weight", 0, 2), DType::Q4_0);
  EXPECT_EQ(type_of("Q4_0", "output.weight", -1, 2, true), DType::Q4_0);
  EXPECT_EQ(type_of("Q4_K", "blk.1.ffn_down.weight", 1, 2), DType::Q4_K);
}

TEST(QuantMix, Q4KMMatchesTheConformanceFiles) {
  EXPECT_EQ(type_of("Q4_K_M", "output.weight", -1, 2, true), DType::Q6_K);
  EXPECT_EQ(type_of("Q4_K_M", "token_embd.weight", -1, 2, false), DType::Q4_K);
  EXPECT_EQ(type_of("Q4_K_M", "blk.0.attn_v.weight", 0, 2), DType::Q4_K);
  EXPECT_EQ(type_of("Q4_K_M", "blk.1.attn_v.weight", 1, 2), DType::Q6_K);
  EXPECT_EQ(type_of("Q4_K_M", "blk.1.ffn_down.weight", 1, 2), DType::Q6_K);
  EXPECT_EQ(type_of("Q4_K_M", "blk.1.attn_q.weight", 1, 2), DType::Q4_K);
  EXPECT_EQ(type_of("Q5_K_M", "blk.1.ffn_down.weight", 1, 2), DType::Q6_K);
  // 22 layers: first/last eighth and every third layer between get more bits.
  EXPECT_EQ(type_of("Q4_K_M", "blk.0.attn_v.weight", 0, 22), DType::Q6_K);
  EXPECT_EQ(type_of("Q4_K_M", "blk.3.attn_v.weight", 3, 22), DType::Q4_K);
  EXPECT_EQ(type_of("Q4_K_M", "blk.4.attn_v.weight", 4, 22), DType::Q6_K);
  EXPECT_EQ(type_of("Q4_K_M", "blk.21.ffn_down.weight", 21, 22), DType::Q6_K);
}

TEST(QuantMix, Q3KMMatchesTheConformanceFiles) {
  EXPECT_EQ(type_of("Q3_K_M", "output.weight", -1, 2, true), DType::Q6_K);
  EXPECT_EQ(type_of("Q3_K_M", "blk.0.attn_v.weight", 0, 2), DType::Q5_K);
  EXPECT_EQ(type_of("Q3_K_M", "blk.1.attn_output.weight", 1, 2), DType::Q4_K);
  EXPECT_EQ(type_of("Q3_K_M", "blk.0.ffn_down.weight", 0, 2), DType::Q4_K);
  EXPECT_EQ(type_of("Q3_K_M", "blk.0.ffn_up.weight", 0, 2), DType::Q3_K);
}

TEST(QuantMix, RowsThatFitNoKQuantBlockFallBack) {
  EXPECT_EQ(type_of("Q4_K_M", "blk.0.attn_q.weight", 0, 24, false, 896), DType::Q5_0);
  EXPECT_EQ(type_of("Q5_K", "blk.0.attn_q.weight", 0, 24, false, 896), DType::Q5_1);
  EXPECT_EQ(type_of("Q6_K", "blk.0.attn_q.weight", 0, 24, false, 896), DType::Q8_0);
  EXPECT_EQ(type_of("Q3_K", "blk.0.attn_q.weight", 0, 24, false, 896), DType::Q4_0);
  EXPECT_EQ(type_of("Q4_0", "blk.0.ffn_down.weight", 0, 5, false, 172), DType::F16);
}

}  // namespace
}  // namespace minima
