// Writes a trained model as a llama-architecture GGUF that minima and llama.cpp load directly: the
// hyperparameters as llama.* metadata, the tokenizer's metadata (vocabulary, merges, special
// tokens, chat template) copied from its GGUF, norm gains in F32 and the matrices in F32, F16 or
// Q8_0 (rounded by minima's reference quantizers).
#pragma once

#include <filesystem>
#include <string>

#include "model/gguf/gguf.hpp"
#include "train/params.hpp"

namespace minima::train {

struct ExportOptions {
  std::string name = "minima";
  std::string type = "F16";  // F32 | F16 | Q8_0
};

void export_gguf(const ModelConfig& c, const Layout& layout, const float* params,
                 const GgufFile& tokenizer, const ExportOptions& o, const std::filesystem::path& out);

}  // namespace minima::train
