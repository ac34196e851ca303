// Model::load: hyperparameters from `{arch}.*` metadata, weights checked tensor by tensor against
// the shapes those hyperparameters imply, so a wrong file fails at load with the tensor's name
// rather than producing garbage later.
#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/quant/quant.hpp"
#include "model/model.hpp"

namespace minima {
namespace {

class Loader {
 public:
  Loader(const GgufFile& f, const std::string& arch) : f_(f), arch_(arch) {}

  int64_t req_int(const std::string& suffix) const {
    const std::string key = arch_ + "." + suffix;
    const auto v = f_.get_int(key);
    if (!v) fail(f_.name(), ": required metadata key '", key, "' is missing");
    if (*v <= 0 || *v > (int64_t(1) << 32))
      fail(f_.name(), ": metadata '", key, "' = ", *v, " is out of range");
    return *v;
  }
  std::optional<int64_t> opt_int(const std::string& suffix) const {
    const std::string key = arch_ + "." + suffix;
    const auto v = f_.get_int(key);
    if (v && (*v <= 0 || *v > (int64_t(1) << 32)))
      fail(f_.name(), ": metadata '", key, "' = ", *v, " is out of range");
    return v;
  }
  std::optional<double> opt_float(const std::string& suffix) const {
    return f_.get_float(arch_ + "." + suffix);
  }

  const GgufTensorInfo& tensor(const std::string& name,
                               std::initializer_list<int64_t> shape) const {
    const GgufTensorInfo* t = f_.find_tensor(name);
    if (!t)
      fail(f_.name(), ": missing tensor '", name, "' (expected shape ", shape_str(shape), ")");
    check_shape(*t, shape);
    return *t;
  }
  const GgufTensorInfo* opt_tensor(const std::string& name,
                                   std::initializer_list<int64_t> shape) const {
    const GgufTensorInfo* t = f_.find_tensor(name);
    if (t) check_shape(*t, shape);
    return t;
  }

  TensorView matrix(const std::string& name, int64_t ne0, int64_t ne1) const {
    const GgufTensorInfo& t = tensor(name, {ne0, ne1});
    if (!type_info(t.type).weight_supported)
      fail(f_.name(), ": tensor '", name, "' has type ", type_info(t.type).name,
           ", which cannot be a weight");
    return make_view(t.type, ne0, ne1, t.data);
  }

  // Small vectors (norms, biases) are converted to F32 once: they are tiny and read every token.
  std::vector<float> vec(const GgufTensorInfo& t) const {
    std::vector<float> out(static_cast<size_t>(t.n_elements()));
    quant::dequantize_row_ref(t.type, t.data, out.data(), t.n_elements());
    return out;
  }
  std::vector<float> vec(const std::string& name, int64_t n) const {
    return vec(tensor(name, {n}));
  }
  std::vector<float> opt_vec(const std::string& name, int64_t n) const {
    const GgufTensorInfo* t = opt_tensor(name, {n});
    return t ? vec(*t) : std::vector<float>{};
  }

 private:
  static std::string shape_str(std::initializer_list<int64_t> s) {
    std::string r = "[";
    for (auto it = s.begin(); it != s.end(); ++it)
      r += (it == s.begin() ? "" : ", ") + std::to_string(*it);
    return r + "]";
  }
  void check_shape(const GgufTensorInfo& t, std::initializer_list<int64_t> shape) const {
    bool ok = t.n_dims <= 4;
    int d = 0;
    for (int64_t e : shape) ok = ok && t.ne[d++] == e;
    for (; d < 4; ++d) ok = ok && t.ne[d] == 1;
    if (!ok)
      fail(f_.name(), ": tensor '", t.name, "' has shape ", t.shape_string(), ", expected ",
           shape_str(shape));
  }

  const GgufFile& f_;
  std::string arch_;
};

}  // namespace

Model Model::load(const std::filesystem::path& path, FileLoad load) {
  Model m(GgufFile::open(path, load));
  const GgufFile& f = m.file_;
  const auto arch_name = f.get_string("general.architecture");
  if (!arch_name)
    fail(f.name(), ": metadata 'general.architecture' is missing (not a model file?)");
  m.arch_ = find_arch(*arch_name);
  if (!m.arch_)
    fail(f.name(), ": architecture '", *arch_name,
         "' is not supported (supported: ", supported_arch_names(), ")");
  if (f.tensors().empty())
    fail(f.name(), ": the file has no tensors (a vocabulary-only GGUF cannot be run)");

  const Loader L(f, *arch_name);
  HParams& hp = m.hp_;
  hp.n_embd = L.req_int("embedding_length");
  hp.n_layer = L.req_int("block_count");
  hp.n_ff = L.req_int("feed_forward_length");
  hp.n_head = L.req_int("attention.head_count");
  hp.n_head_kv = L.opt_int("attention.head_count_kv").value_or(hp.n_head);
  hp.n_ctx_train = L.opt_int("context_length").value_or(2048);
  if (hp.n_head % hp.n_head_kv != 0)
    fail(f.name(), ": head_count ", hp.n_head, " is not a multiple of head_count_kv ",
         hp.n_head_kv);
  if (!L.opt_int("attention.key_length") && hp.n_embd % hp.n_head != 0)
    fail(f.name(), ": embedding_length ", hp.n_embd, " is not a multiple of head_count ",
         hp.n_head);
  hp.head_dim = L.opt_int("attention.key_length").value_or(hp.n_embd / hp.n_head);
  hp.head_dim_v = L.opt_int("attention.value_length").value_or(hp.head_dim);
  hp.n_rot = L.opt_int("rope.dimension_count").value_or(hp.head_dim);
  if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0)
    fail(f.name(), ": rope.dimension_count ", hp.n_rot, " must be even and <= head size ",
         hp.head_dim);
  hp.rms_eps = static_cast<float>(L.opt_float("attention.layer_norm_rms_epsilon").value_or(1e-5));
  hp.rope_base =
      static_cast<float>(L.opt_float("rope.freq_base").value_or(m.arch_->default_rope_base));
  if (!(hp.rms_eps > 0) || !(hp.rope_base > 0))
    fail(f.name(), ": rms epsilon and rope.freq_base must be positive");

  const auto scaling = f.get_string(*arch_name + ".rope.scaling.type");
  if (scaling && *scaling == "linear") {
    const double factor = L.opt_float("rope.scaling.factor").value_or(1.0);
    if (!(factor > 0)) fail(f.name(), ": rope.scaling.factor must be positive");
    hp.rope_freq_scale = static_cast<float>(1.0 / factor);
  } else if (scaling && *scaling != "none") {
    fail(f.name(), ": rope scaling type '", *scaling,
         "' is not supported yet (supported: none, linear, and "
         "Llama-3 frequency factors via rope_freqs.weight)");
  } else if (const auto fs = L.opt_float("rope.scale_linear")) {
    hp.rope_freq_scale = static_cast<float>(1.0 / *fs);
  }

  const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  if (!embd) fail(f.name(), ": missing tensor 'token_embd.weight'");
  hp.n_vocab = embd->ne[1];
  m.tok_embd_ = L.matrix("token_embd.weight", hp.n_embd, hp.n_vocab);
  m.output_norm_ = L.vec("output_norm.weight", hp.n_embd);
  if (f.find_tensor("output.weight")) {
    m.output_ = L.matrix("output.weight", hp.n_embd, hp.n_vocab);
  } else {
    m.output_ = m.tok_embd_;
    m.tied_ = true;
  }
  if (const GgufTensorInfo* rf = L.opt_tensor("rope_freqs.weight", {hp.n_rot / 2}))
    m.rope_freqs_ = L.vec(*rf);

  const int64_t q_dim = hp.n_head * hp.head_dim, kv_dim = hp.n_head_kv * hp.head_dim;
  const int64_t v_dim = hp.n_head_kv * hp.head_dim_v, o_dim = hp.n_head * hp.head_dim_v;
  m.layers_.resize(static_cast<size_t>(hp.n_layer));
  for (int64_t i = 0; i < hp.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights& l = m.layers_[static_cast<size_t>(i)];
    l.attn_norm = L.vec(p + "attn_norm.weight", hp.n_embd);
    l.wq = L.matrix(p + "attn_q.weight", hp.n_embd, q_dim);
    l.wk = L.matrix(p + "attn_k.weight", hp.n_embd, kv_dim);
    l.wv = L.matrix(p + "attn_v.weight", hp.n_embd, v_dim);
    l.wo = L.matrix(p + "attn_output.weight", o_dim, hp.n_embd);
    if (m.arch_->qkv_bias) {
      l.bq = L.vec(p + "attn_q.bias", q_dim);
      l.bk = L.vec(p + "attn_k.bias", kv_dim);
      l.bv = L.vec(p + "attn_v.bias", v_dim);
    } else {  // optional in llama-style files (some fine-tunes carry them)
      l.bq = L.opt_vec(p + "attn_q.bias", q_dim);
      l.bk = L.opt_vec(p + "attn_k.bias", kv_dim);
      l.bv = L.opt_vec(p + "attn_v.bias", v_dim);
    }
    if (m.arch_->qk_norm) {
      l.q_norm = L.vec(p + "attn_q_norm.weight", hp.head_dim);
      l.k_norm = L.vec(p + "attn_k_norm.weight", hp.head_dim);
    }
    l.ffn_norm = L.vec(p + "ffn_norm.weight", hp.n_embd);
    l.w_gate = L.matrix(p + "ffn_gate.weight", hp.n_embd, hp.n_ff);
    l.w_up = L.matrix(p + "ffn_up.weight", hp.n_embd, hp.n_ff);
    l.w_down = L.matrix(p + "ffn_down.weight", hp.n_ff, hp.n_embd);
  }
  return m;
}

int64_t Model::max_matmul_in() const {
  return std::max({hp_.n_embd, hp_.n_ff, hp_.n_head * hp_.head_dim_v});
}

uint64_t Model::n_params() const {
  uint64_t n = 0;
  for (const auto& t : file_.tensors()) n += static_cast<uint64_t>(t.n_elements());
  return n;
}

}  // namespace minima
