// A loaded model: hyperparameters from GGUF metadata and weight views into the file's memory map
// (kept in their stored types: nothing is dequantized at load except the small norm/bias vectors).
// Immutable after load; one Model can serve many contexts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/tensor.hpp"
#include "model/arch/arch.hpp"
#include "model/gguf/gguf.hpp"

namespace minima {

struct HParams {
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;  // key/query head size ({arch}.attention.key_length, else n_embd / n_head)
  int64_t head_dim_v = 0;  // value head size
  int64_t n_ff = 0;
  int64_t n_rot = 0;  // rotated dims per head ({arch}.rope.dimension_count, else head_dim)
  float rms_eps = 1e-5f;
  float rope_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // linear rope scaling: positions are multiplied by this
};

struct LayerWeights {
  std::vector<float> attn_norm;  // [n_embd]
  TensorView wq, wk, wv,
      wo;  // [n_head*hd, n_embd] [n_kv*hd, n_embd] [n_kv*hdv, n_embd] [n_embd, n_head*hdv]
  std::vector<float> bq, bk, bv;      // qwen2: [n_head*hd] [n_kv*hd] [n_kv*hdv]; empty otherwise
  std::vector<float> q_norm, k_norm;  // qwen3: [hd]; empty otherwise
  std::vector<float> ffn_norm;        // [n_embd]
  TensorView w_gate, w_up, w_down;    // [n_ff, n_embd] [n_ff, n_embd] [n_embd, n_ff]
};

class Model {
 public:
  // Throws Error naming the file and what is missing / malformed. By default the weights are read
  // into huge-page memory when they fit (FileLoad::Auto, core/mapped_file.hpp): decode is faster.
  static Model load(const std::filesystem::path& path, FileLoad load = FileLoad::Auto);

  const GgufFile& file() const { return file_; }
  const ArchSpec& arch() const { return *arch_; }
  const HParams& hparams() const { return hp_; }
  const TensorView& tok_embd() const { return tok_embd_; }  // [n_vocab, n_embd]
  const TensorView& output() const { return output_; }  // [n_vocab, n_embd] (== tok_embd when tied)
  bool tied_output() const { return tied_; }
  const std::vector<float>& output_norm() const { return output_norm_; }
  const std::vector<LayerWeights>& layers() const { return layers_; }
  const std::vector<float>& rope_freq_factors() const { return rope_freqs_; }  // [n_rot/2] or empty

  // Largest input dimension of any matmul (for scratch sizing).
  int64_t max_matmul_in() const;
  uint64_t n_params() const;

 private:
  explicit Model(GgufFile f) : file_(std::move(f)) {}
  GgufFile file_;
  const ArchSpec* arch_ = nullptr;
  HParams hp_;
  TensorView tok_embd_, output_;
  bool tied_ = false;
  std::vector<float> output_norm_;
  std::vector<LayerWeights> layers_;
  std::vector<float> rope_freqs_;
};

}  // namespace minima
