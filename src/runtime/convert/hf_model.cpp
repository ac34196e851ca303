#include "runtime/convert/hf_model.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "core/quant/quant.hpp"
#include "model/gguf/writer.hpp"
#include "runtime/convert/hf_tokenizer.hpp"
#include "runtime/convert/safetensors.hpp"

namespace minima {
namespace {

struct Config {
  std::string arch;  // llama | qwen2 | qwen3
  int64_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx, head_dim;
  double rms_eps, rope_theta;
  bool tied;
};

int64_t get_int(const nlohmann::json& c, const char* key, const std::string& where,
                std::optional<int64_t> def = std::nullopt) {
  if (!c.contains(key) || c[key].is_null()) {
    if (def) return *def;
    fail(where, ": missing ", key);
  }
  if (!c[key].is_number_integer() || c[key].get<int64_t>() <= 0 ||
      c[key].get<int64_t>() > (int64_t(1) << 31))
    fail(where, ": ", key, " must be a positive integer, not ", c[key].dump());
  return c[key].get<int64_t>();
}

Config read_config(const nlohmann::json& c, const std::string& where) {
  Config k;
  std::string a;
  if (c.contains("architectures") && c["architectures"].is_array() && !c["architectures"].empty())
    a = c["architectures"][0].get<std::string>();
  const std::string mt = c.value("model_type", "");
  if (a == "LlamaForCausalLM" || (a.empty() && mt == "llama"))
    k.arch = "llama";
  else if (a == "Qwen2ForCausalLM" || (a.empty() && mt == "qwen2"))
    k.arch = "qwen2";
  else if (a == "Qwen3ForCausalLM" || (a.empty() && mt == "qwen3"))
    k.arch = "qwen3";
  else
    fail(where, ": architecture ", a.empty() ? mt : a,
         " is not supported (LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM are)");
  if (c.contains("rope_scaling") && !c["rope_scaling"].is_null())
    fail(where, ": rope_scaling ", c["rope_scaling"].dump(), " is not supported yet");
  k.n_vocab = get_int(c, "vocab_size", where);
  k.n_embd = get_int(c, "hidden_size", where);
  k.n_layer = get_int(c, "num_hidden_layers", where);
  k.n_head = get_int(c, "num_attention_heads", where);
  k.n_head_kv = get_int(c, "num_key_value_heads", where, k.n_head);
  k.n_ff = get_int(c, "intermediate_size", where);
  k.n_ctx = get_int(c, "max_position_embeddings", where, 2048);
  k.head_dim = get_int(c, "head_dim", where, k.n_embd / k.n_head);
  if (k.n_head % k.n_head_kv != 0)
    fail(where, ": num_attention_heads ", k.n_head, " is not a multiple of num_key_value_heads ",
         k.n_head_kv);
  if (k.head_dim % 2 != 0) fail(where, ": head_dim ", k.head_dim, " must be even for RoPE");
  k.rms_eps = c.value("rms_norm_eps", 1e-6);
  k.rope_theta = c.value("rope_theta", 10000.0);
  k.tied = c.value("tie_word_embeddings", false);
  return k;
}

struct Mapped {
  std::string hf, gguf;
  std::vector<int64_t> shape;  // HF (row-major) shape expected
  int64_t permute_heads = 0;   // llama q/k: heads to re-interleave
};

std::vector<Mapped> tensor_map(const Config& k) {
  const int64_t E = k.n_embd, hd = k.head_dim, q = k.n_head * hd, kv = k.n_head_kv * hd;
  const bool llama = k.arch == "llama";
  std::vector<Mapped> m = {{"model.embed_tokens.weight", "token_embd.weight", {k.n_vocab, E}},
                           {"model.norm.weight", "output_norm.weight", {E}}};
  if (!k.tied) m.push_back({"lm_head.weight", "output.weight", {k.n_vocab, E}});
  for (int64_t i = 0; i < k.n_layer; ++i) {
    const std::string h = "model.layers." + std::to_string(i) + ".",
                      g = "blk." + std::to_string(i) + ".";
    m.push_back({h + "input_layernorm.weight", g + "attn_norm.weight", {E}});
    m.push_back({h + "self_attn.q_proj.weight", g + "attn_q.weight", {q, E}, llama ? k.n_head : 0});
    m.push_back(
        {h + "self_attn.k_proj.weight", g + "attn_k.weight", {kv, E}, llama ? k.n_head_kv : 0});
    m.push_back({h + "self_attn.v_proj.weight", g + "attn_v.weight", {kv, E}});
    if (k.arch == "qwen2") {
      m.push_back({h + "self_attn.q_proj.bias", g + "attn_q.bias", {q}});
      m.push_back({h + "self_attn.k_proj.bias", g + "attn_k.bias", {kv}});
      m.push_back({h + "self_attn.v_proj.bias", g + "attn_v.bias", {kv}});
    }
    if (k.arch == "qwen3") {
      m.push_back({h + "self_attn.q_norm.weight", g + "attn_q_norm.weight", {hd}});
      m.push_back({h + "self_attn.k_norm.weight", g + "attn_k_norm.weight", {hd}});
    }
    m.push_back({h + "self_attn.o_proj.weight", g + "attn_output.weight", {E, q}});
    m.push_back({h + "post_attention_layernorm.weight", g + "ffn_norm.weight", {E}});
    m.push_back({h + "mlp.gate_proj.weight", g + "ffn_gate.weight", {k.n_ff, E}});
    m.push_back({h + "mlp.up_proj.weight", g + "ffn_up.weight", {k.n_ff, E}});
    m.push_back({h + "mlp.down_proj.weight", g + "ffn_down.weight", {E, k.n_ff}});
  }
  return m;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

uint32_t file_type_of(DType t) {
  switch (t) {
    case DType::F32:
      return 0;
    case DType::F16:
      return 1;
    case DType::BF16:
      return 32;
    default:
      return 7;  // Q8_0
  }
}

}  // namespace

ConvertReport convert_hf(const std::filesystem::path& dir, const std::filesystem::path& out,
                         const ConvertOptions& opt, ThreadPool& pool) {
  if (opt.type != DType::F32 && opt.type != DType::F16 && opt.type != DType::BF16 &&
      opt.type != DType::Q8_0)
    fail(
        "minima convert: --type must be F32, F16, BF16 or Q8_0 (quantize further with minima "
        "quantize)");
  const auto cfg_path = dir / "config.json";
  nlohmann::json cj;
  {
    std::ifstream in(cfg_path);
    if (!in)
      fail(cfg_path.string(), ": cannot read (is ", dir.string(), " a Hugging Face model folder?)");
    try {
      cj = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail(cfg_path.string(), ": not valid JSON: ", e.what());
    }
  }
  const Config k = read_config(cj, cfg_path.string());
  const SafetensorsSet st = SafetensorsSet::open(dir);
  const auto map = tensor_map(k);

  std::set<std::string> used;
  for (const auto& m : map) {
    const StTensor* t = st.find(m.hf);
    if (t == nullptr) fail(dir.string(), ": the checkpoint has no tensor '", m.hf, "'");
    if (t->shape != m.shape)
      fail(dir.string(), ": tensor '", m.hf, "' is ", shape_str(t->shape), ", config.json implies ",
           shape_str(m.shape));
    used.insert(m.hf);
  }
  for (const auto& [name, t] : st.all()) {
    if (used.count(name) || name.find("rotary_emb.inv_freq") != std::string::npos) continue;
    if (k.tied && name == "lm_head.weight") continue;  // a saved copy of the tied embedding
    fail(dir.string(), ": tensor '", name, "' has no place in a ", k.arch,
         " GGUF (an architecture variant minima does not convert)");
  }

  GgufWriter w;
  const std::string a = k.arch;
  w.set_string("general.architecture", a);
  w.set_string("general.name", cj.value("_name_or_path", dir.filename().string()));
  w.set_u32("general.file_type", file_type_of(opt.type));
  w.set_u32("general.quantization_version", 2);
  w.set_u32(a + ".context_length", uint32_t(k.n_ctx));
  w.set_u32(a + ".embedding_length", uint32_t(k.n_embd));
  w.set_u32(a + ".block_count", uint32_t(k.n_layer));
  w.set_u32(a + ".feed_forward_length", uint32_t(k.n_ff));
  w.set_u32(a + ".attention.head_count", uint32_t(k.n_head));
  w.set_u32(a + ".attention.head_count_kv", uint32_t(k.n_head_kv));
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", float(k.rms_eps));
  w.set_f32(a + ".rope.freq_base", float(k.rope_theta));
  if (k.head_dim != k.n_embd / k.n_head || a == "qwen3") {
    w.set_u32(a + ".attention.key_length", uint32_t(k.head_dim));
    w.set_u32(a + ".attention.value_length", uint32_t(k.head_dim));
  }
  if (a == "llama") {
    w.set_u32(a + ".rope.dimension_count", uint32_t(k.head_dim));
    w.set_u32(a + ".vocab_size", uint32_t(k.n_vocab));
  }
  ConvertReport rep;
  rep.arch = a;
  rep.tokenizer = convert_hf_tokenizer(dir, cj, k.n_vocab, w);

  for (const auto& m : map) {
    const StTensor* t = st.find(m.hf);
    const bool matrix = m.shape.size() == 2;
    const int64_t cols = m.shape.back(), rows = matrix ? m.shape[0] : 1;
    DType type = matrix ? opt.type : DType::F32;
    if (cols % type_info(type).block_size != 0) type = DType::F16;
    std::vector<int64_t> gshape =
        matrix ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{cols};
    const int64_t heads = m.permute_heads;
    w.add_tensor(m.gguf, type, gshape, [t, type, cols, rows, heads, &pool](std::span<uint8_t> dst) {
      const size_t rb = row_size(type, cols);
      std::vector<float> buf(size_t(cols) * size_t(pool.size()));
      pool.run([&](int ith, int nth) {
        float* x = buf.data() + size_t(ith) * size_t(cols);
        for (int64_t r = rows * ith / nth; r < rows * (ith + 1) / nth; ++r) {
          int64_t src = r;
          if (heads > 0) {  // r = h·d + 2b + a  ←  h·d + a·d/2 + b
            const int64_t d = rows / heads, h = r / d, j = r % d;
            src = h * d + (j % 2) * (d / 2) + j / 2;
          }
          t->to_f32(src * cols, cols, x);
          quant::quantize_row_ref(type, x, dst.data() + size_t(r) * rb, cols);
        }
      });
    });
    ++rep.n_tensors;
    rep.n_params += rows * cols;
  }
  w.write(out);
  return rep;
}

}  // namespace minima
