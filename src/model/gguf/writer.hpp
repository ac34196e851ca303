// GGUF v3 writer. Metadata keeps insertion order; tensor data is produced by a callback at write
// time so multi-GB models (random-weight benchmarks, quantizer output) stream to disk without
// being held in memory. The file is written to PATH.tmp and renamed, so a failed write never
// leaves a half file under the final name nor destroys an existing one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "model/gguf/gguf.hpp"

namespace minima {

class GgufWriter {
 public:
  // Fills exactly out.size() bytes (row_size(type, ne0) * rows) of one tensor's data.
  using Fill = std::function<void(std::span<uint8_t> out)>;

  explicit GgufWriter(uint32_t alignment = 32);

  // Sets (or replaces, keeping its position) a metadata key.
  void set(const std::string& key, GgufValue value);
  void set_string(const std::string& key, std::string v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_array(const std::string& key, GgufArray a);
  void copy_metadata_from(const GgufFile& f);  // every key except general.alignment

  // shape in ggml order (shape[0] = row length). Error if the shape does not fit the type.
  void add_tensor(std::string name, DType type, std::vector<int64_t> shape, Fill fill);

  void write(const std::filesystem::path& path) const;

  static GgufArray strings(std::vector<std::string> v);
  static GgufArray floats(std::vector<double> v, GgufType t = GgufType::F32);
  static GgufArray ints(std::vector<int64_t> v, GgufType t = GgufType::I32);

 private:
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> shape;
    size_t nbytes;
    Fill fill;
  };
  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace minima
