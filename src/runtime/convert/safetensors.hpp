// safetensors reader (Hugging Face checkpoints): an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the
// data. Like the GGUF reader, every field is checked against the bytes that are there before it
// is used (header length within the file, offsets within the data and matching dtype × shape,
// no overlaps), so a truncated or hostile file is an Error naming the file and the tensor.
//
// A checkpoint is one model.safetensors or shards listed by model.safetensors.index.json
// (weight_map: tensor → shard file); SafetensorsSet opens either and finds tensors by name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/mapped_file.hpp"

namespace minima {

enum class StDType { F32, F16, BF16 };

struct StTensor {
  std::string name;
  StDType dtype = StDType::F32;
  std::vector<int64_t> shape;  // row-major, as PyTorch: shape.back() is contiguous
  std::span<const uint8_t> data;
  int64_t n_elements() const;
  // out: [count] elements [first, first + count) as F32 (the caller keeps the range in bounds).
  void to_f32(int64_t first, int64_t count, float* out) const;
};

class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::filesystem::path& path);
  const std::vector<StTensor>& tensors() const { return tensors_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile map_;
  std::string path_;
  std::vector<StTensor> tensors_;
};

class SafetensorsSet {
 public:
  // dir holds model.safetensors, or model.safetensors.index.json and its shards.
  static SafetensorsSet open(const std::filesystem::path& dir);
  const StTensor* find(const std::string& name) const;
  const StTensor& get(const std::string& name) const;  // Error naming the tensor when absent
  const std::map<std::string, const StTensor*>& all() const { return by_name_; }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const StTensor*> by_name_;
};

}  // namespace minima
