// The trainable parameters of a llama-architecture model: one contiguous F32 buffer holding every
// tensor (so the optimizer, gradient clipping and checkpoints each run over one array), plus a
// table of named views in GGUF naming and ggml shape order (ne0 = row length).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace minima::train {

struct ModelConfig {
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_ff = 0;
  int64_t n_ctx = 0;  // training sequence length and the exported context length
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  bool tied_output = true;  // output projection = token embedding

  int64_t head_dim_override = 0;  // > 0: the head size when it is not n_embd / n_head (pruned)
  int64_t head_dim() const { return head_dim_override > 0 ? head_dim_override : n_embd / n_head; }
  // Throws Error naming the first inconsistent field.
  void validate() const;
};

struct ParamTensor {
  std::string name;            // GGUF tensor name, e.g. "blk.0.attn_q.weight"
  int64_t ne0 = 0, ne1 = 1;    // ggml order: ne0 = row length (a matmul's input dimension)
  size_t offset = 0;           // floats into the buffer
  bool decay = false;          // AdamW weight decay applies (matrices; not norm gains)
  size_t numel() const { return size_t(ne0 * ne1); }
};

// Views of one layer's tensors (indices into Layout::tensors).
struct LayerIndex {
  int attn_norm, wq, wk, wv, wo, ffn_norm, w_gate, w_up, w_down;
};

struct Layout {
  std::vector<ParamTensor> tensors;
  size_t total = 0;  // floats
  int tok_embd = -1, output_norm = -1, output = -1;  // output == tok_embd when tied
  std::vector<LayerIndex> layers;

  static Layout of(const ModelConfig& c);
  const ParamTensor& at(int i) const { return tensors[size_t(i)]; }
};

// Initial values, a function of (seed, tensor index, element) only: matrices N(0, 0.02²), the
// residual projections (attn_output, ffn_down) scaled by 1/sqrt(2·n_layer), norm gains 1.
void init_params(const Layout& l, const ModelConfig& c, uint64_t seed, float* params);

}  // namespace minima::train
