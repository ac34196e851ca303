// Model quantization (`minima quantize`): a GGUF in, a GGUF out with every 2-D weight recoded.
//
// Which tensors: names ending in "weight" with two or more dimensions, except norms (the same
// selection llama-quantize makes, so the two tools' files line up tensor for tensor); everything
// else is copied byte for byte. Which type: the recipe's (model/quant_mix.hpp) per-tensor policy,
// or with `pure` the base type everywhere; then the first matching override. Rows are dequantized
// to F32 and requantized with the searching quantizers (core/quant/quant.hpp
// quantize_row_search), weighted by the importance matrix where one is given (`fast`: plain
// rounding). Metadata is copied, general.file_type set. Output goes through GgufWriter (PATH.tmp,
// then renamed), so a failure never leaves a partial file nor replaces an existing one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/quant/types.hpp"
#include "core/threads.hpp"
#include "model/gguf/gguf.hpp"
#include "model/imatrix.hpp"
#include "model/quant_mix.hpp"

namespace minima {

struct TensorTypeOverride {
  std::string pattern;                            // as the user wrote it, for messages
  std::function<bool(std::string_view)> matches;  // e.g. a regex search
  DType type = DType::F16;
};

struct QuantizeOptions {
  QuantRecipe recipe;
  bool pure = false;
  bool allow_requantize = false;
  bool fast = false;
  std::vector<TensorTypeOverride> overrides;  // first match wins
  const ImportanceMatrix* importance = nullptr;
};

struct TensorPlan {
  std::string name;
  DType from = DType::F32, to = DType::F32;
  std::vector<int64_t> shape;  // ggml order
  bool quantize = false;       // false: bytes copied
  bool weighted = false;       // an importance row is used
  size_t bytes_in = 0, bytes_out = 0;
};

// Decides every tensor's output type; throws Error naming the tensor for any impossible request
// (row length not a multiple of the chosen type's block, quantized input without
// allow_requantize, importance of the wrong length, an override to a type that is not a weight
// type).
std::vector<TensorPlan> plan_quantization(const GgufFile& in, const QuantizeOptions& opt);

// progress(done_bytes, total_bytes, tensor) after each tensor.
using QuantizeProgress = std::function<void(size_t done, size_t total, const TensorPlan& t)>;

void quantize_model(const GgufFile& in, const std::vector<TensorPlan>& plan,
                    const QuantizeOptions& opt, const std::filesystem::path& out, ThreadPool& pool,
                    const QuantizeProgress& progress = {});

}  // namespace minima
