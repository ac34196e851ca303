// Non-owning view of a 2-D weight matrix (or a vector when rows == 1) in any supported type.
// Storage is owned elsewhere (the GGUF map, or a test's buffer). ggml order: ne0 = row length.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/quant/types.hpp"

namespace minima {

struct TensorView {
  DType type = DType::F32;
  int64_t ne0 = 0;       // elements per row (input dimension of a matmul)
  int64_t ne1 = 0;       // rows (output dimension of a matmul)
  size_t row_bytes = 0;  // row_size(type, ne0)
  const uint8_t* data = nullptr;

  bool empty() const { return data == nullptr; }
  const void* row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
};

inline TensorView make_view(DType type, int64_t ne0, int64_t ne1, const void* data) {
  return {type, ne0, ne1, row_size(type, ne0), static_cast<const uint8_t*>(data)};
}

}  // namespace minima
