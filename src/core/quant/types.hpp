// Tensor element types and their GGUF block layouts. The numeric ids are GGML's (they are what a
// GGUF file stores), the block structs are byte-for-byte the on-disk layouts.
//
// A row of n elements of type T occupies row_size(T, n) = n / block_size * type_size bytes and n
// must be a multiple of block_size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace minima {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
};

// One past the largest GGML type id we know; sizes per-type tables.
inline constexpr uint32_t kDTypeCount = 40;

inline constexpr int QK4_0 = 32, QK4_1 = 32, QK5_0 = 32, QK5_1 = 32, QK8_0 = 32, QK8_1 = 32;
inline constexpr int QK_K = 256;
inline constexpr int K_SCALE_SIZE = 12;

// Blocks. fp16 fields are stored as raw uint16_t (IEEE half).
struct BlockQ4_0 {
  uint16_t d;             // scale
  uint8_t qs[QK4_0 / 2];  // nibbles: element j in low nibble of qs[j], element j+16 in the high one
};
struct BlockQ4_1 {
  uint16_t d, m;  // scale, min: x = q * d + m
  uint8_t qs[QK4_1 / 2];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];  // 5th bit of each element, little-endian uint32: bit j belongs to element j
  uint8_t qs[QK5_0 / 2];
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[QK5_1 / 2];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[QK8_0];
};
struct BlockQ8_1 {  // activation type for Q4_1 / Q5_1
  uint16_t d;       // scale
  uint16_t s;       // d * sum(qs)
  int8_t qs[QK8_1];
};
struct BlockQ2_K {
  uint8_t scales[QK_K / 16];  // low nibble: scale, high nibble: min (4 bits each)
  uint8_t qs[QK_K / 4];       // 2-bit quants
  uint16_t d, dmin;
};
struct BlockQ3_K {
  uint8_t hmask[QK_K / 8];  // high bit of each quant
  uint8_t qs[QK_K / 4];     // low 2 bits
  uint8_t scales[12];       // 16 6-bit scales, packed
  uint16_t d;
};
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[K_SCALE_SIZE];  // 8 6-bit scales and 8 6-bit mins, packed
  uint8_t qs[QK_K / 2];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qh[QK_K / 8];
  uint8_t qs[QK_K / 2];
};
struct BlockQ6_K {
  uint8_t ql[QK_K / 2];      // low 4 bits
  uint8_t qh[QK_K / 4];      // high 2 bits
  int8_t scales[QK_K / 16];  // 8-bit scales
  uint16_t d;
};
struct BlockQ8_K {  // activation type for the K-quants
  float d;
  int8_t qs[QK_K];
  int16_t bsums[QK_K / 16];  // sums of qs in groups of 16
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

struct TypeInfo {
  std::string_view name;  // "Q4_K"
  int64_t block_size;     // elements per block
  size_t type_size;       // bytes per block
  bool quantized;         // not F32/F16/BF16
  DType vec_dot_type;     // what activations are converted to before a dot with this weight type
  bool weight_supported;  // can be a weight in a model we run
};

// nullopt for ids GGUF defines that minima does not support (e.g. IQ types) or unknown ids.
std::optional<TypeInfo> type_info(uint32_t ggml_type);
const TypeInfo& type_info(DType t);              // t must be a supported type
std::string_view type_name(uint32_t ggml_type);  // "IQ2_XXS", ..., or "unknown"

// Bytes of a row of n elements; n must be a multiple of the block size (checked by callers that
// take sizes from files).
size_t row_size(DType t, int64_t n);

// Parses "Q4_K", "q4_k", "f16" ... into a type; nullopt if unknown.
std::optional<DType> parse_dtype(std::string_view s);

}  // namespace minima
