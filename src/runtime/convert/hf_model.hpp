// minima convert: a Hugging Face checkpoint (config.json, *.safetensors, tokenizer files) to a
// GGUF that minima and llama.cpp load alike. Architectures: LlamaForCausalLM, Qwen2ForCausalLM,
// Qwen3ForCausalLM (tied embeddings or not).
//
// Tensor names follow llama.cpp's (model.layers.N.self_attn.q_proj → blk.N.attn_q, ...). For the
// llama architecture the q/k projections are permuted: Hugging Face applies rotary embeddings to
// the two halves of each head (rotate_half), GGUF's llama RoPE to adjacent pairs, so each head's
// rows are re-interleaved (row h·d + 2b + a ← row h·d + a·d/2 + b); Qwen2/3 use the half layout in
// GGUF too and are copied as they are. 1-D tensors (norms, biases) are written F32, matrices in
// the requested type (F32, F16, BF16 or Q8_0; Q8_0 falls back to F16 for rows that are not a
// multiple of 32).
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "core/quant/types.hpp"
#include "core/threads.hpp"

namespace minima {

struct ConvertOptions {
  DType type = DType::F16;
};

struct ConvertReport {
  std::string arch, tokenizer;
  int64_t n_tensors = 0, n_params = 0;
};

// Throws Error naming the file and field for anything missing, malformed or unsupported
// (architecture, rope_scaling, a tensor the mapping does not know).
ConvertReport convert_hf(const std::filesystem::path& dir, const std::filesystem::path& out,
                         const ConvertOptions& opt, ThreadPool& pool);

}  // namespace minima
