// Type table: one row per GGML type id. Ids that GGUF files may carry but minima cannot compute
// with keep their name (for error messages) and no TypeInfo.
#include "core/quant/types.hpp"

#include <array>
#include <cctype>

#include "core/error.hpp"

namespace minima {
namespace {

struct Row {
  std::string_view name;
  bool supported = false;
  TypeInfo info{};
};

constexpr Row unsupported(std::string_view name) {
  return Row{name, false, {}};
}

constexpr Row supported(std::string_view name, int64_t block, size_t bytes, bool quantized,
                        DType dot_type, bool weight) {
  return Row{name, true, TypeInfo{name, block, bytes, quantized, dot_type, weight}};
}

// Index = GGML type id. Activation-only types (Q8_1, Q8_K) name themselves as their vec_dot_type;
// they have no dot kernel (weight_supported = false).
constexpr std::array<Row, kDTypeCount> make_table() {
  std::array<Row, kDTypeCount> t{};
  for (auto& r : t) r = unsupported("unknown");
  t[0] = supported("F32", 1, 4, false, DType::F32, true);
  t[1] = supported("F16", 1, 2, false, DType::F32, true);
  t[2] = supported("Q4_0", QK4_0, sizeof(BlockQ4_0), true, DType::Q8_0, true);
  t[3] = supported("Q4_1", QK4_1, sizeof(BlockQ4_1), true, DType::Q8_1, true);
  t[4] = unsupported("Q4_2");  // removed from ggml in 2023
  t[5] = unsupported("Q4_3");  // removed from ggml in 2023
  t[6] = supported("Q5_0", QK5_0, sizeof(BlockQ5_0), true, DType::Q8_0, true);
  t[7] = supported("Q5_1", QK5_1, sizeof(BlockQ5_1), true, DType::Q8_1, true);
  t[8] = supported("Q8_0", QK8_0, sizeof(BlockQ8_0), true, DType::Q8_0, true);
  t[9] = supported("Q8_1", QK8_1, sizeof(BlockQ8_1), true, DType::Q8_1, false);
  t[10] = supported("Q2_K", QK_K, sizeof(BlockQ2_K), true, DType::Q8_K, true);
  t[11] = supported("Q3_K", QK_K, sizeof(BlockQ3_K), true, DType::Q8_K, true);
  t[12] = supported("Q4_K", QK_K, sizeof(BlockQ4_K), true, DType::Q8_K, true);
  t[13] = supported("Q5_K", QK_K, sizeof(BlockQ5_K), true, DType::Q8_K, true);
  t[14] = supported("Q6_K", QK_K, sizeof(BlockQ6_K), true, DType::Q8_K, true);
  t[15] = supported("Q8_K", QK_K, sizeof(BlockQ8_K), true, DType::Q8_K, false);
  t[16] = unsupported("IQ2_XXS");
  t[17] = unsupported("IQ2_XS");
  t[18] = unsupported("IQ3_XXS");
  t[19] = unsupported("IQ1_S");
  t[20] = unsupported("IQ4_NL");
  t[21] = unsupported("IQ3_S");
  t[22] = unsupported("IQ2_S");
  t[23] = unsupported("IQ4_XS");
  t[24] = unsupported("I8");
  t[25] = unsupported("I16");
  t[26] = unsupported("I32");
  t[27] = unsupported("I64");
  t[28] = unsupported("F64");
  t[29] = unsupported("IQ1_M");
  t[30] = supported("BF16", 1, 2, false, DType::F32, true);
  t[31] = unsupported("Q4_0_4_4");  // 31..33, 36..38: interleaved repacks, removed from GGUF
  t[32] = unsupported("Q4_0_4_8");
  t[33] = unsupported("Q4_0_8_8");
  t[34] = unsupported("TQ1_0");
  t[35] = unsupported("TQ2_0");
  t[36] = unsupported("IQ4_NL_4_4");
  t[37] = unsupported("IQ4_NL_4_8");
  t[38] = unsupported("IQ4_NL_8_8");
  t[39] = unsupported("MXFP4");
  return t;
}

constexpr std::array<Row, kDTypeCount> kTable = make_table();

}  // namespace

std::optional<TypeInfo> type_info(uint32_t ggml_type) {
  if (ggml_type >= kDTypeCount || !kTable[ggml_type].supported) return std::nullopt;
  return kTable[ggml_type].info;
}

const TypeInfo& type_info(DType t) {
  const auto id = static_cast<uint32_t>(t);
  if (id >= kDTypeCount || !kTable[id].supported) {
    fail("type_info: type ", type_name(id), " (", id, ") is not supported");
  }
  return kTable[id].info;
}

std::string_view type_name(uint32_t ggml_type) {
  if (ggml_type >= kDTypeCount) return "unknown";
  return kTable[ggml_type].name;
}

size_t row_size(DType t, int64_t n) {
  const TypeInfo& ti = type_info(t);
  if (n < 0 || n % ti.block_size != 0) {
    fail("row_size: ", n, " elements is not a multiple of the ", ti.name, " block size ",
         ti.block_size);
  }
  return static_cast<size_t>(n / ti.block_size) * ti.type_size;
}

std::optional<DType> parse_dtype(std::string_view s) {
  for (uint32_t id = 0; id < kDTypeCount; ++id) {
    if (!kTable[id].supported) continue;
    const std::string_view name = kTable[id].name;
    if (name.size() != s.size()) continue;
    bool same = true;
    for (size_t i = 0; i < s.size() && same; ++i) {
      same = std::toupper(static_cast<unsigned char>(s[i])) == name[i];
    }
    if (same) return static_cast<DType>(id);
  }
  return std::nullopt;
}

}  // namespace minima
