// GGUF (v2 and v3) reader. GgufFile owns the memory map and the parsed metadata; TensorInfo::data
// points into the map (zero-copy) and is valid as long as the GgufFile lives.
//
// Every size in the file is checked against the bytes that are actually there before anything is
// allocated, so a truncated or hostile file yields an Error that names the file and the field —
// never a crash, a hang or a giant allocation. Thread-safety: immutable after open.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/mapped_file.hpp"
#include "core/quant/types.hpp"

namespace minima {

enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};
std::string_view gguf_type_name(GgufType t);

struct GgufArray;

// One metadata value. Arrays hold a typed vector (strings stay strings; numbers stay numbers).
struct GgufValue {
  GgufType type = GgufType::U8;
  std::variant<uint64_t, int64_t, double, bool, std::string, std::shared_ptr<const GgufArray>> v;

  bool is_integer() const;
  bool is_float() const { return type == GgufType::F32 || type == GgufType::F64; }
};

struct GgufArray {
  GgufType elem_type = GgufType::U8;
  // Exactly one of these is filled, by elem_type: integers (signed kept as two's-complement in
  // int64), floats, bools, strings, or nested arrays.
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<uint8_t> bools;
  std::vector<std::string> strings;
  std::vector<GgufArray> arrays;
  size_t size() const;
};

struct GgufTensorInfo {
  std::string name;
  DType type = DType::F32;
  int n_dims = 0;
  std::array<int64_t, 4> ne{1, 1, 1, 1};  // ggml order: ne[0] is the row length (contiguous)
  uint64_t offset = 0;                    // relative to the data section
  size_t nbytes = 0;
  const uint8_t* data = nullptr;  // into the map

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
  std::string shape_string() const;  // "[256, 512]"
};

class GgufFile {
 public:
  // Throws Error("<path>: <field>: <what is wrong>"). load: how the bytes are held
  // (mapped_file.hpp).
  static GgufFile open(const std::filesystem::path& path, FileLoad load = FileLoad::Map);
  // Parses bytes held by the caller (they must outlive the result); `name` is used in messages.
  static GgufFile parse(std::span<const uint8_t> bytes, std::string name);

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }
  size_t file_size() const { return bytes_.size(); }

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;

  // Typed getters: nullopt when the key is absent; Error naming the key when present with a type
  // that cannot represent the request (e.g. a string asked for as an integer, or -1 as uint32).
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<uint32_t> get_u32(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  const GgufArray* get_array(std::string_view key) const;  // null when absent; Error if not array

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

 private:
  GgufFile() = default;
  void parse_all();

  MappedFile map_;  // empty when parsed from caller-held bytes
  std::span<const uint8_t> bytes_;
  std::string name_;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

// Human-readable rendering of a value for `minima info` (arrays abbreviated).
std::string gguf_value_to_string(const GgufValue& v, size_t max_items = 8);

}  // namespace minima
