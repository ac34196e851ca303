#include "core/quant/types.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace minima {
namespace {

TEST(Types, SizesAndDotTypes) {
  EXPECT_EQ(type_info(DType::Q4_K).type_size, 144u);
  EXPECT_EQ(type_info(DType::Q4_K).block_size, 256);
  EXPECT_EQ(type_info(DType::Q4_0).vec_dot_type, DType::Q8_0);
  EXPECT_EQ(type_info(DType::Q5_1).vec_dot_type, DType::Q8_1);
  EXPECT_EQ(type_info(DType::Q6_K).vec_dot_type, DType::Q8_K);
  EXPECT_EQ(type_info(DType::BF16).vec_dot_type, DType::F32);
  EXPECT_FALSE(type_info(DType::Q8_K).weight_supported);
  EXPECT_FALSE(type_info(DType::Q8_1).weight_supported);
  EXPECT_TRUE(type_info(DType::Q3_K).weight_supported);
  EXPECT_FALSE(type_info(DType::F16).quantized);
  EXPECT_EQ(row_size(DType::Q4_0, 64), 36u);
  EXPECT_EQ(row_size(DType::F16, 3), 6u);
  EXPECT_THROW(row_size(DType::Q4_K, 100), Error);
}

TEST(Types, NamesOfUnsupportedIds) {
  EXPECT_EQ(type_name(16), "IQ2_XXS");
  EXPECT_EQ(type_name(4), "Q4_2");
  EXPECT_EQ(type_name(31), "Q4_0_4_4");
  EXPECT_EQ(type_name(35), "TQ2_0");
  EXPECT_EQ(type_name(28), "F64");
  EXPECT_EQ(type_name(1000), "unknown");
  EXPECT_FALSE(type_info(16u).has_value());
  EXPECT_FALSE(type_info(1000u).has_value());
  EXPECT_TRUE(type_info(30u).has_value());
}

TEST(Types, Parse) {
  EXPECT_EQ(parse_dtype("q4_k"), DType::Q4_K);
  EXPECT_EQ(parse_dtype("F16"), DType::F16);
  EXPECT_EQ(parse_dtype("bf16"), DType::BF16);
  EXPECT_FALSE(parse_dtype("IQ2_XXS").has_value());
  EXPECT_FALSE(parse_dtype("").has_value());
}

}  // namespace
}  // namespace minima
