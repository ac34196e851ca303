// minima convert on synthetic Hugging Face checkpoints the test writes itself: config.json,
// safetensors (single and sharded; F32, F16, BF16) with random weights, and the tokenizer files
// built from ../shared/tokenizers data (tokenizer.model for the SentencePiece vocabulary,
// tokenizer.json for the byte-level BPE one). The converted GGUF must give the logits of a plain
// forward pass written here directly from the safetensors weights in Hugging Face's conventions
// (rotate_half RoPE, [out, in] matrices), and its tokenizer must pass the vocabulary's reference
// vectors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.hpp"
#include "core/fp16.hpp"
#include "core/kernels/kernels.hpp"
#include "model/forward.hpp"
#include "model/gguf/gguf.hpp"
#include "runtime/convert/hf_model.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "support/test_support.hpp"

namespace minima {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// ---- a synthetic checkpoint ----

struct HfTensor {
  std::vector<int64_t> shape;
  std::vector<float> v;  // values as they will read back (already rounded to the dtype)
};

struct Checkpoint {
  std::string arch;  // llama | qwen2 | qwen3
  int64_t vocab, embd, layers, heads, kv_heads, ff, head_dim;
  bool tied;
  std::string dtype;  // F32 | F16 | BF16
  std::map<std::string, HfTensor> t;
};

float round_to(const std::string& dtype, float x) {
  if (dtype == "F16") return fp16_to_fp32(fp32_to_fp16(x));
  if (dtype == "BF16") return bf16_to_fp32(fp32_to_bf16(x));
  return x;
}

void add(Checkpoint& c, const std::string& name, std::vector<int64_t> shape, float sd, float mean,
         std::mt19937& rng) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::normal_distribution<float> dist(mean, sd);
  HfTensor h{std::move(shape), std::vector<float>(size_t(n))};
  for (auto& x : h.v) x = round_to(c.dtype, dist(rng));
  c.t[name] = std::move(h);
}

Checkpoint make_checkpoint(std::string arch, int64_t vocab, int64_t embd, int64_t layers,
                           int64_t heads, int64_t kv_heads, int64_t ff, int64_t head_dim, bool tied,
                           std::string dtype) {
  Checkpoint c{std::move(arch),  vocab, embd, layers, heads, kv_heads, ff, head_dim, tied,
               std::move(dtype), {}};
  std::mt19937 rng(42);
  const int64_t q = heads * head_dim, kv = kv_heads * head_dim;
  const float s = 1.0f / std::sqrt(float(embd));
  add(c, "model.embed_tokens.weight", {vocab, embd}, 1.0f, 0.0f, rng);
  add(c, "model.norm.weight", {embd}, 0.1f, 1.0f, rng);
  if (!tied) add(c, "lm_head.weight", {vocab, embd}, s, 0.0f, rng);
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    add(c, p + "input_layernorm.weight", {embd}, 0.1f, 1.0f, rng);
    add(c, p + "self_attn.q_proj.weight", {q, embd}, s, 0.0f, rng);
    add(c, p + "self_attn.k_proj.weight", {kv, embd}, s, 0.0f, rng);
    add(c, p + "self_attn.v_proj.weight", {kv, embd}, s, 0.0f, rng);
    if (c.arch == "qwen2") {
      add(c, p + "self_attn.q_proj.bias", {q}, 0.1f, 0.0f, rng);
      add(c, p + "self_attn.k_proj.bias", {kv}, 0.1f, 0.0f, rng);
      add(c, p + "self_attn.v_proj.bias", {kv}, 0.1f, 0.0f, rng);
    }
    if (c.arch == "qwen3") {
      add(c, p + "self_attn.q_norm.weight", {head_dim}, 0.1f, 1.0f, rng);
      add(c, p + "self_attn.k_norm.weight", {head_dim}, 0.1f, 1.0f, rng);
    }
    add(c, p + "self_attn.o_proj.weight", {embd, q}, 1.0f / std::sqrt(float(q)), 0.0f, rng);
    add(c, p + "post_attention_layernorm.weight", {embd}, 0.1f, 1.0f, rng);
    add(c, p + "mlp.gate_proj.weight", {ff, embd}, s, 0.0f, rng);
    add(c, p + "mlp.up_proj.weight", {ff, embd}, s, 0.0f, rng);
    add(c, p + "mlp.down_proj.weight", {embd, ff}, 1.0f / std::sqrt(float(ff)), 0.0f, rng);
  }
  return c;
}

void write_safetensors(const fs::path& path, const Checkpoint& c,
                       const std::vector<std::string>& names) {
  json h = json::object();
  std::string data;
  for (const auto& n : names) {
    const HfTensor& t = c.t.at(n);
    const size_t begin = data.size();
    for (float x : t.v) {
      if (c.dtype == "F32") {
        data.append(reinterpret_cast<const char*>(&x), 4);
      } else {
        const uint16_t b = c.dtype == "F16" ? fp32_to_fp16(x) : fp32_to_bf16(x);
        data.append(reinterpret_cast<const char*>(&b), 2);
      }
    }
    h[n] = {{"dtype", c.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  h["__metadata__"] = {{"format", "pt"}};
  const std::string hs = h.dump();
  const uint64_t len = hs.size();
  std::ofstream o(path, std::ios::binary);
  o.write(reinterpret_cast<const char*>(&len), 8);
  o << hs << data;
}

// Writes config.json and the weights (sharded in two when `shards`).
void write_model(const fs::path& dir, const Checkpoint& c, bool shards) {
  fs::create_directories(dir);
  const std::map<std::string, std::string> arch = {
      {"llama", "LlamaForCausalLM"}, {"qwen2", "Qwen2ForCausalLM"}, {"qwen3", "Qwen3ForCausalLM"}};
  json cfg = {{"architectures", {arch.at(c.arch)}},
              {"model_type", c.arch},
              {"vocab_size", c.vocab},
              {"hidden_size", c.embd},
              {"num_hidden_layers", c.layers},
              {"num_attention_heads", c.heads},
              {"num_key_value_heads", c.kv_heads},
              {"intermediate_size", c.ff},
              {"max_position_embeddings", 256},
              {"rms_norm_eps", 1e-5},
              {"rope_theta", 10000.0},
              {"tie_word_embeddings", c.tied},
              {"rope_scaling", nullptr}};
  if (c.arch == "qwen3") cfg["head_dim"] = c.head_dim;
  if (c.arch != "llama") cfg["bos_token_id"] = 151643;
  std::ofstream(dir / "config.json") << cfg.dump(2);
  std::vector<std::string> names;
  for (const auto& [n, t] : c.t) names.push_back(n);
  if (!shards) return write_safetensors(dir / "model.safetensors", c, names);
  const size_t half = names.size() / 2;
  const std::vector<std::string> a(names.begin(), names.begin() + std::ptrdiff_t(half)),
      b(names.begin() + std::ptrdiff_t(half), names.end());
  write_safetensors(dir / "model-00001-of-00002.safetensors", c, a);
  write_safetensors(dir / "model-00002-of-00002.safetensors", c, b);
  json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", json::object()}};
  for (const auto& n : a) index["weight_map"][n] = "model-00001-of-00002.safetensors";
  for (const auto& n : b) index["weight_map"][n] = "model-00002-of-00002.safetensors";
  std::ofstream(dir / "model.safetensors.index.json") << index.dump(2);
}

// ---- tokenizer files from a vocab GGUF ----

void put_varint(std::string& s, uint64_t v) {
  while (v >= 0x80) {
    s.push_back(char((v & 0x7F) | 0x80));
    v >>= 7;
  }
  s.push_back(char(v));
}

// tokenizer.model: the SentencePiece ModelProto with the vocabulary's pieces, scores and types.
void write_sentencepiece(const fs::path& dir, const GgufFile& vocab) {
  const auto& tokens = vocab.get_array("tokenizer.ggml.tokens")->strings;
  const auto& scores = vocab.get_array("tokenizer.ggml.scores")->floats;
  const auto& types = vocab.get_array("tokenizer.ggml.token_type")->ints;
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string p;
    put_varint(p, 1 << 3 | 2);
    put_varint(p, tokens[i].size());
    p += tokens[i];
    const float sc = float(scores[i]);
    put_varint(p, 2 << 3 | 5);
    p.append(reinterpret_cast<const char*>(&sc), 4);
    if (types[i] != 1) {
      put_varint(p, 3 << 3 | 0);
      put_varint(p, uint64_t(types[i]));
    }
    put_varint(out, 1 << 3 | 2);
    put_varint(out, p.size());
    out += p;
  }
  std::ofstream(dir / "tokenizer.model", std::ios::binary) << out;
  json cfg = {{"add_bos_token", true},
              {"add_eos_token", false},
              {"bos_token", "<s>"},
              {"eos_token", "</s>"},
              {"unk_token", "<unk>"}};
  std::ofstream(dir / "tokenizer_config.json") << cfg.dump(2);
}

// tokenizer.json (byte-level BPE, Qwen2's pre-tokenizer) and tokenizer_config.json.
void write_bpe_tokenizer(const fs::path& dir, const GgufFile& vocab) {
  const auto& tokens = vocab.get_array("tokenizer.ggml.tokens")->strings;
  const auto& types = vocab.get_array("tokenizer.ggml.token_type")->ints;
  json v = json::object(), added = json::array(), merges = json::array();
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (types[i] == 1)
      v[tokens[i]] = i;
    else
      added.push_back({{"id", i}, {"content", tokens[i]}, {"special", types[i] == 3}});
  }
  for (const auto& m : vocab.get_array("tokenizer.ggml.merges")->strings) {
    const size_t sp = m.find(' ');
    merges.push_back({m.substr(0, sp), m.substr(sp + 1)});  // the newer [a, b] form
  }
  const std::string re =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
      "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  json tj = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern", {{"Regex", re}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
      {"model", {{"type", "BPE"}, {"vocab", v}, {"merges", merges}, {"byte_fallback", false}}}};
  std::ofstream(dir / "tokenizer.json") << tj.dump();
  json cfg = {{"add_bos_token", false},
              {"bos_token", nullptr},
              {"eos_token", "<|im_end|>"},
              {"pad_token", "<|endoftext|>"},
              {"chat_template", *vocab.get_string("tokenizer.chat_template")}};
  std::ofstream(dir / "tokenizer_config.json") << cfg.dump(2);
}

// ---- the direct forward pass, in Hugging Face's conventions ----

void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * x[i];
  const float r = float(1.0 / std::sqrt(ss / double(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * r * w[i];
}

// y[o] = Σ_i W[o, i] x[i] (+ b[o]); W: [out, in] row-major as stored by PyTorch.
std::vector<float> linear(const HfTensor& w, const std::vector<float>& x, const HfTensor* b) {
  const int64_t out = w.shape[0], in = w.shape[1];
  std::vector<float> y(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    double s = b ? b->v[size_t(o)] : 0.0;
    for (int64_t i = 0; i < in; ++i) s += double(w.v[size_t(o * in + i)]) * x[size_t(i)];
    y[size_t(o)] = float(s);
  }
  return y;
}

// rotate_half RoPE on one head: pairs (i, i + d/2).
void rope(float* x, int64_t d, int64_t pos, double theta) {
  for (int64_t i = 0; i < d / 2; ++i) {
    const double a = double(pos) * std::pow(theta, -2.0 * double(i) / double(d));
    const double x0 = x[i], x1 = x[i + d / 2];
    x[i] = float(x0 * std::cos(a) - x1 * std::sin(a));
    x[i + d / 2] = float(x0 * std::sin(a) + x1 * std::cos(a));
  }
}

// logits: [tokens, vocab]
std::vector<float> reference_logits(const Checkpoint& c, const std::vector<int32_t>& toks) {
  const int64_t E = c.embd, hd = c.head_dim, H = c.heads, Hkv = c.kv_heads,
                n = int64_t(toks.size());
  const float eps = 1e-5f;
  std::vector<std::vector<float>> x(static_cast<size_t>(n),
                                    std::vector<float>(static_cast<size_t>(E)));
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < E; ++i)
      x[size_t(t)][size_t(i)] =
          c.t.at("model.embed_tokens.weight").v[size_t(toks[size_t(t)] * E + i)];
  auto T = [&](const std::string& s) -> const HfTensor& { return c.t.at(s); };
  auto opt = [&](const std::string& s) -> const HfTensor* {
    const auto it = c.t.find(s);
    return it == c.t.end() ? nullptr : &it->second;
  };
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    std::vector<std::vector<float>> K(static_cast<size_t>(n)), V(static_cast<size_t>(n)),
        Q(static_cast<size_t>(n));
    std::vector<float> h(static_cast<size_t>(E));
    for (int64_t t = 0; t < n; ++t) {
      rms_norm(x[size_t(t)].data(), T(p + "input_layernorm.weight").v.data(), h.data(), E, eps);
      Q[size_t(t)] = linear(T(p + "self_attn.q_proj.weight"), h, opt(p + "self_attn.q_proj.bias"));
      K[size_t(t)] = linear(T(p + "self_attn.k_proj.weight"), h, opt(p + "self_attn.k_proj.bias"));
      V[size_t(t)] = linear(T(p + "self_attn.v_proj.weight"), h, opt(p + "self_attn.v_proj.bias"));
      for (int64_t hh = 0; hh < H; ++hh) {
        float* q = Q[size_t(t)].data() + hh * hd;
        if (const auto* qn = opt(p + "self_attn.q_norm.weight"))
          rms_norm(q, qn->v.data(), q, hd, eps);
        rope(q, hd, t, 10000.0);
      }
      for (int64_t hh = 0; hh < Hkv; ++hh) {
        float* k = K[size_t(t)].data() + hh * hd;
        if (const auto* kn = opt(p + "self_attn.k_norm.weight"))
          rms_norm(k, kn->v.data(), k, hd, eps);
        rope(k, hd, t, 10000.0);
      }
    }
    for (int64_t t = 0; t < n; ++t) {
      std::vector<float> att(size_t(H * hd));
      for (int64_t hh = 0; hh < H; ++hh) {
        const int64_t g = hh / (H / Hkv);
        std::vector<double> s(size_t(t + 1));
        double mx = -1e300;
        for (int64_t u = 0; u <= t; ++u) {
          double d = 0;
          for (int64_t i = 0; i < hd; ++i)
            d += double(Q[size_t(t)][size_t(hh * hd + i)]) * K[size_t(u)][size_t(g * hd + i)];
          s[size_t(u)] = d / std::sqrt(double(hd));
          mx = std::max(mx, s[size_t(u)]);
        }
        double z = 0;
        for (auto& e : s) z += (e = std::exp(e - mx));
        for (int64_t i = 0; i < hd; ++i) {
          double a = 0;
          for (int64_t u = 0; u <= t; ++u) a += s[size_t(u)] / z * V[size_t(u)][size_t(g * hd + i)];
          att[size_t(hh * hd + i)] = float(a);
        }
      }
      const auto o = linear(T(p + "self_attn.o_proj.weight"), att, nullptr);
      for (int64_t i = 0; i < E; ++i) x[size_t(t)][size_t(i)] += o[size_t(i)];
      rms_norm(x[size_t(t)].data(), T(p + "post_attention_layernorm.weight").v.data(), h.data(), E,
               eps);
      auto gate = linear(T(p + "mlp.gate_proj.weight"), h, nullptr);
      const auto up = linear(T(p + "mlp.up_proj.weight"), h, nullptr);
      for (size_t i = 0; i < gate.size(); ++i)
        gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
      const auto d = linear(T(p + "mlp.down_proj.weight"), gate, nullptr);
      for (int64_t i = 0; i < E; ++i) x[size_t(t)][size_t(i)] += d[size_t(i)];
    }
  }
  const HfTensor& out = c.tied ? T("model.embed_tokens.weight") : T("lm_head.weight");
  std::vector<float> logits;
  std::vector<float> h(static_cast<size_t>(E));
  for (int64_t t = 0; t < n; ++t) {
    rms_norm(x[size_t(t)].data(), T("model.norm.weight").v.data(), h.data(), E, eps);
    const auto y = linear(out, h, nullptr);
    logits.insert(logits.end(), y.begin(), y.end());
  }
  return logits;
}

std::vector<float> minima_logits(const fs::path& gguf, const std::vector<int32_t>& toks) {
  const Model model = Model::load(gguf);
  ThreadPool pool(2);
  SessionOptions so;
  so.n_ctx = 64;
  so.exact = true;  // F32 activations: the comparison is about layout and math, not rounding
  Session s(model, kernels_for(detect_isa()), pool, so);
  std::vector<float> out(toks.size() * size_t(model.hparams().n_vocab));
  s.eval(toks, out.data());
  return out;
}

void expect_logits_match(const Checkpoint& c, const fs::path& gguf) {
  const std::vector<int32_t> toks = {1, 17, 300, 5, 99, 1000, 42, 7, 250, 3};
  const auto want = reference_logits(c, toks), got = minima_logits(gguf, toks);
  ASSERT_EQ(want.size(), got.size());
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(double(want[i]) - got[i]));
    max_ref = std::max(max_ref, std::fabs(double(want[i])));
  }
  // Both sides use the same (exactly representable) weights; only float summation order differs.
  EXPECT_LT(max_diff, 1e-4 * std::max(1.0, max_ref)) << c.arch << " max |logit| " << max_ref;
}

void expect_tokenizer_vectors(const fs::path& gguf, const std::string& vocab_name) {
  const GgufFile f = GgufFile::open(gguf);
  const Tokenizer tok = Tokenizer::from_gguf(f);
  const auto base = test::shared_dir() / "tokenizers" / vocab_name;
  std::ifstream inp(base.string() + ".inp"), outp(base.string() + ".out");
  const std::string all((std::istreambuf_iterator<char>(inp)), std::istreambuf_iterator<char>());
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t p = 0;;) {
    const size_t q = all.find(sep, p);
    if (q == std::string::npos) break;
    texts.push_back(all.substr(p, q - p));
    p = q + sep.size();
  }
  std::string line;
  size_t i = 0, ok = 0;
  while (std::getline(outp, line) && i < texts.size()) {
    std::vector<int32_t> want;
    std::istringstream ss(line);
    for (int32_t id; ss >> id;) want.push_back(id);
    const auto got = tok.encode(texts[i], false, false);
    EXPECT_EQ(got, want) << vocab_name << " case " << i;
    ok += got == want;
    ++i;
  }
  EXPECT_EQ(i, texts.size());
  EXPECT_GT(ok, 40u);
}

TEST(Convert, LlamaShardedF16WithSentencePieceTokenizer) {
  MINIMA_REQUIRE_SHARED("tokenizers/ggml-vocab-llama-spm.gguf");
  const auto dir = test::temp_dir("convert-llama");
  const GgufFile vocab =
      GgufFile::open(test::shared_dir() / "tokenizers" / "ggml-vocab-llama-spm.gguf");
  const Checkpoint c = make_checkpoint("llama", 32000, 64, 2, 4, 2, 96, 16, false, "F16");
  write_model(dir / "hf", c, true);
  write_sentencepiece(dir / "hf", vocab);
  ThreadPool pool(2);
  const auto rep = convert_hf(dir / "hf", dir / "out.gguf", {DType::F16}, pool);
  EXPECT_EQ(rep.arch, "llama");
  expect_logits_match(c, dir / "out.gguf");
  expect_tokenizer_vectors(dir / "out.gguf", "ggml-vocab-llama-spm.gguf");
  const GgufFile out = GgufFile::open(dir / "out.gguf");
  EXPECT_EQ(out.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(out.get_u32("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(out.get_bool("tokenizer.ggml.add_bos_token"), true);
}

TEST(Convert, Qwen2TiedBf16WithByteLevelBpeTokenizer) {
  MINIMA_REQUIRE_SHARED("tokenizers/ggml-vocab-qwen2.gguf");
  const auto dir = test::temp_dir("convert-qwen2");
  const GgufFile vocab =
      GgufFile::open(test::shared_dir() / "tokenizers" / "ggml-vocab-qwen2.gguf");
  const Checkpoint c = make_checkpoint("qwen2", 151936, 32, 2, 4, 2, 64, 8, true, "BF16");
  write_model(dir / "hf", c, false);
  write_bpe_tokenizer(dir / "hf", vocab);
  ThreadPool pool(2);
  convert_hf(dir / "hf", dir / "out.gguf", {DType::BF16}, pool);
  expect_logits_match(c, dir / "out.gguf");
  expect_tokenizer_vectors(dir / "out.gguf", "ggml-vocab-qwen2.gguf");
  const GgufFile out = GgufFile::open(dir / "out.gguf");
  EXPECT_EQ(out.get_string("tokenizer.ggml.pre"), "qwen2");
  EXPECT_EQ(out.get_u32("tokenizer.ggml.bos_token_id"), 151643u);  // from config.json
  EXPECT_EQ(out.get_u32("tokenizer.ggml.eos_token_id"), 151645u);
  EXPECT_EQ(out.get_string("tokenizer.chat_template"), vocab.get_string("tokenizer.chat_template"));
  EXPECT_EQ(out.find_tensor("output.weight"), nullptr);  // tied
}

TEST(Convert, Qwen3F32WithHeadNormsAndWideHeads) {
  MINIMA_REQUIRE_SHARED("tokenizers/ggml-vocab-qwen2.gguf");
  const auto dir = test::temp_dir("convert-qwen3");
  const GgufFile vocab =
      GgufFile::open(test::shared_dir() / "tokenizers" / "ggml-vocab-qwen2.gguf");
  // head_dim 16 × 4 heads = 64 ≠ hidden 32, as in real Qwen3 models.
  const Checkpoint c = make_checkpoint("qwen3", 151936, 32, 2, 4, 2, 64, 16, true, "F32");
  write_model(dir / "hf", c, false);
  write_bpe_tokenizer(dir / "hf", vocab);
  ThreadPool pool(2);
  convert_hf(dir / "hf", dir / "out.gguf", {DType::F32}, pool);
  expect_logits_match(c, dir / "out.gguf");
}

TEST(Convert, BadCheckpointsAreRefusedByName) {
  const auto dir = test::temp_dir("convert-bad");
  ThreadPool pool(1);
  EXPECT_THROW(convert_hf(dir, dir / "o.gguf", {DType::F16}, pool), Error);  // no config.json
  Checkpoint c = make_checkpoint("llama", 300, 32, 1, 2, 2, 64, 16, true, "F32");
  write_model(dir / "m", c, false);
  // Truncate the weights: the reader must name the file, not crash.
  const auto st = dir / "m" / "model.safetensors";
  fs::resize_file(st, fs::file_size(st) - 100);
  try {
    convert_hf(dir / "m", dir / "o.gguf", {DType::F16}, pool);
    FAIL() << "a truncated safetensors file must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
  }
  // A header that claims more bytes than the file has.
  {
    std::ofstream o(st, std::ios::binary);
    const uint64_t len = 1 << 30;
    o.write(reinterpret_cast<const char*>(&len), 8);
    o << "{}";
  }
  EXPECT_THROW(convert_hf(dir / "m", dir / "o.gguf", {DType::F16}, pool), Error);
  EXPECT_FALSE(fs::exists(dir / "o.gguf"));
  // An unsupported architecture is named.
  std::ofstream(dir / "m" / "config.json") << R"({"architectures": ["GemmaForCausalLM"]})";
  try {
    convert_hf(dir / "m", dir / "o.gguf", {DType::F16}, pool);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("GemmaForCausalLM"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace minima
