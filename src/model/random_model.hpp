// Random-weight models of real published shapes, written as GGUF: benchmarks and tests need
// realistic sizes without downloads. Weights are deterministic in (seed, tensor, row), so the same
// command gives the same file whatever the thread count.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/quant/types.hpp"
#include "core/threads.hpp"
#include "model/quant_mix.hpp"

namespace minima {

struct ModelShape {
  std::string name;
  std::string arch;  // llama | qwen2 | qwen3
  int64_t n_vocab = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, n_ff = 0, n_ctx = 0;
  int64_t head_dim = 0;  // 0: n_embd / n_head
  float rope_base = 10000.0f, rms_eps = 1e-5f;
  bool tied_output = false;
};

// tinyllama-1.1b, qwen2.5-0.5b, smollm2-135m, llama-3.2-1b, qwen3-0.6b; nullopt otherwise.
std::optional<ModelShape> model_preset(std::string_view name);
std::string model_preset_names();

// Distribution of the 2-D weights (std gain/√cols either way).
enum class WeightDist { Normal, StudentT3 };

// Writes a model of `shape` whose 2-D weights follow `recipe` (model/quant_mix.hpp), with a
// generated SentencePiece-style vocabulary of n_vocab tokens (control, byte-fallback and text
// pieces) that llama.cpp loads too.
void write_random_model(const ModelShape& shape, const QuantRecipe& recipe, uint64_t seed,
                        const std::filesystem::path& path, ThreadPool& pool,
                        WeightDist dist = WeightDist::Normal);
// Every 2-D weight in `type` (where its row length allows).
void write_random_model(const ModelShape& shape, DType type, uint64_t seed,
                        const std::filesystem::path& path, ThreadPool& pool,
                        WeightDist dist = WeightDist::Normal);

}  // namespace minima
