#include "model/quant_mix.hpp"

#include <cctype>

namespace minima {
namespace {

struct Entry {
  const char* name;
  DType base;
  bool mixed;
  uint32_t file_type;
};

constexpr Entry kRecipes[] = {
    {"F32", DType::F32, false, 0},     {"F16", DType::F16, false, 1},
    {"BF16", DType::BF16, false, 32},  {"Q8_0", DType::Q8_0, false, 7},
    {"Q4_0", DType::Q4_0, false, 2},   {"Q4_1", DType::Q4_1, false, 3},
    {"Q5_0", DType::Q5_0, false, 8},   {"Q5_1", DType::Q5_1, false, 9},
    {"Q2_K", DType::Q2_K, false, 10},  {"Q3_K", DType::Q3_K, false, 11},
    {"Q4_K", DType::Q4_K, false, 14},  {"Q5_K", DType::Q5_K, false, 16},
    {"Q6_K", DType::Q6_K, false, 18},  {"Q3_K_M", DType::Q3_K, true, 12},
    {"Q4_K_M", DType::Q4_K, true, 15}, {"Q5_K_M", DType::Q5_K, true, 17},
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Layers that get more bits: the first and last eighth, and every third one in between.
bool more_bits(int64_t i, int64_t n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

bool has(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

}  // namespace

std::optional<QuantRecipe> parse_quant_recipe(std::string_view name) {
  for (const auto& e : kRecipes)
    if (iequals(name, e.name)) return QuantRecipe{e.name, e.base, e.mixed, e.file_type};
  return std::nullopt;
}

std::string quant_recipe_names() {
  std::string s;
  for (const auto& e : kRecipes) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

DType weight_type_for(const QuantRecipe& r, std::string_view name, int64_t layer, int64_t n_layer,
                      bool is_output, int64_t row_length) {
  DType t = r.base;
  if (r.mixed) {
    if (is_output) {
      t = DType::Q6_K;
    } else if (r.base == DType::Q3_K) {
      if (has(name, "attn_v.weight"))
        t = layer < 2 ? DType::Q5_K : DType::Q4_K;
      else if (has(name, "attn_output.weight") || has(name, "ffn_down"))
        t = DType::Q4_K;
    } else if ((has(name, "attn_v.weight") || has(name, "ffn_down")) && layer >= 0 &&
               more_bits(layer, n_layer)) {
      t = DType::Q6_K;
    }
  }
  if (row_length % type_info(t).block_size == 0) return t;
  // Rows that do not fit a K-quant's 256-element blocks take the nearest 32-block type of similar
  // size (as llama.cpp does, so files stay comparable); anything else that does not fit: F16.
  switch (t) {
    case DType::Q2_K:
    case DType::Q3_K:
      t = DType::Q4_0;
      break;
    case DType::Q4_K:
      t = DType::Q5_0;
      break;
    case DType::Q5_K:
      t = DType::Q5_1;
      break;
    case DType::Q6_K:
      t = DType::Q8_0;
      break;
    default:
      break;
  }
  if (row_length % type_info(t).block_size == 0) return t;
  return DType::F16;
}

}  // namespace minima
