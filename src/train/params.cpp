#include "train/params.hpp"

#include <cmath>

#include "core/error.hpp"
#include "train/rng.hpp"

namespace minima::train {

void ModelConfig::validate() const {
  const auto positive = [](const char* what, int64_t v) {
    if (v <= 0) fail("model: ", what, " must be positive, got ", v);
  };
  positive("n_vocab", n_vocab);
  positive("n_embd", n_embd);
  positive("n_layer", n_layer);
  positive("n_head", n_head);
  positive("n_head_kv", n_head_kv);
  positive("n_ff", n_ff);
  positive("n_ctx", n_ctx);
  if (head_dim_override == 0 && n_embd % n_head != 0)
    fail("model: n_embd ", n_embd, " is not a multiple of n_head ", n_head);
  if (n_head % n_head_kv != 0)
    fail("model: n_head ", n_head, " is not a multiple of n_head_kv ", n_head_kv);
  if (head_dim() % 2 != 0) fail("model: head_dim ", head_dim(), " must be even (RoPE pairs)");
  if (!(rope_base > 0.0f)) fail("model: rope_base must be positive");
  if (!(rms_eps > 0.0f)) fail("model: rms_eps must be positive");
}

Layout Layout::of(const ModelConfig& c) {
  c.validate();
  Layout l;
  const auto add = [&](std::string name, int64_t ne0, int64_t ne1, bool decay) {
    l.tensors.push_back({std::move(name), ne0, ne1, l.total, decay});
    l.total += size_t(ne0 * ne1);
    return int(l.tensors.size() - 1);
  };
  const int64_t d = c.n_embd, hd = c.head_dim();
  l.tok_embd = add("token_embd.weight", d, c.n_vocab, true);
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerIndex li{};
    li.attn_norm = add(p + "attn_norm.weight", d, 1, false);
    li.wq = add(p + "attn_q.weight", d, c.n_head * hd, true);
    li.wk = add(p + "attn_k.weight", d, c.n_head_kv * hd, true);
    li.wv = add(p + "attn_v.weight", d, c.n_head_kv * hd, true);
    li.wo = add(p + "attn_output.weight", c.n_head * hd, d, true);
    li.ffn_norm = add(p + "ffn_norm.weight", d, 1, false);
    li.w_gate = add(p + "ffn_gate.weight", d, c.n_ff, true);
    li.w_up = add(p + "ffn_up.weight", d, c.n_ff, true);
    li.w_down = add(p + "ffn_down.weight", c.n_ff, d, true);
    l.layers.push_back(li);
  }
  l.output_norm = add("output_norm.weight", d, 1, false);
  l.output = c.tied_output ? l.tok_embd : add("output.weight", d, c.n_vocab, true);
  return l;
}

void init_params(const Layout& l, const ModelConfig& c, uint64_t seed, float* params) {
  const double residual_scale = 1.0 / std::sqrt(2.0 * double(c.n_layer));
  for (size_t t = 0; t < l.tensors.size(); ++t) {
    const ParamTensor& p = l.tensors[t];
    float* dst = params + p.offset;
    if (!p.decay) {  // norm gains
      for (size_t i = 0; i < p.numel(); ++i) dst[i] = 1.0f;
      continue;
    }
    const bool residual = p.name.ends_with("attn_output.weight") || p.name.ends_with("ffn_down.weight");
    const double sigma = 0.02 * (residual ? residual_scale : 1.0);
    for (size_t i = 0; i < p.numel(); ++i) dst[i] = float(sigma * normal(seed, t + 1, i));
  }
}

}  // namespace minima::train
