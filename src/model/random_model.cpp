#include "model/random_model.hpp"

#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "core/quant/quant.hpp"
#include "model/gguf/writer.hpp"

namespace minima {
namespace {

const ModelShape kPresets[] = {
    {"tinyllama-1.1b", "llama", 32000, 2048, 22, 32, 4, 5632, 2048, 0, 10000.0f, 1e-5f, false},
    {"qwen2.5-0.5b", "qwen2", 151936, 896, 24, 14, 2, 4864, 32768, 0, 1000000.0f, 1e-6f, true},
    {"smollm2-135m", "llama", 49152, 576, 30, 9, 3, 1536, 8192, 0, 100000.0f, 1e-5f, true},
    {"llama-3.2-1b", "llama", 128256, 2048, 16, 32, 8, 8192, 131072, 0, 500000.0f, 1e-5f, true},
    {"qwen3-0.6b", "qwen3", 151936, 1024, 28, 16, 8, 3072, 40960, 128, 1000000.0f, 1e-6f, true},
};

// Counter-based normal generator: value i of stream (seed, key) without shared state, so rows can
// be filled by any thread in any order.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void fill_normal(float* out, int64_t n, float stddev, uint64_t stream) {
  for (int64_t i = 0; i < n; i += 2) {
    const uint64_t a = mix(stream + 0x9E3779B97F4A7C15ull * uint64_t(i + 1));
    const uint64_t b = mix(a ^ 0xD1B54A32D192ED03ull);
    const double u1 = (double(a >> 11) + 0.5) * 0x1.0p-53, u2 = double(b >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    out[i] = static_cast<float>(stddev * r * std::cos(2 * M_PI * u2));
    if (i + 1 < n) out[i + 1] = static_cast<float>(stddev * r * std::sin(2 * M_PI * u2));
  }
}

// Student-t with 3 degrees of freedom scaled to standard deviation `stddev` (t₃ has variance 3):
// z / √(u₁² + u₂² + u₃²)·stddev with z, u independent standard normals. Heavy tails (kurtosis
// infinite), like the outlier weights of trained models, which quantizers must handle.
void fill_student_t3(float* out, int64_t n, float stddev, uint64_t stream, float* scratch) {
  fill_normal(out, n, 1.0f, stream);
  fill_normal(scratch, 3 * n, 1.0f, mix(stream ^ 0x5851F42D4C957F2Dull));
  for (int64_t i = 0; i < n; ++i) {
    const float* u = scratch + 3 * i;
    out[i] = stddev * out[i] / std::sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
  }
}

// A SentencePiece-like vocabulary: <unk> <s> </s>, 256 byte-fallback tokens, then text pieces
// (single characters, "▁"-prefixed words built from letter sequences) until n_vocab is reached.
void add_vocab(GgufWriter& w, int64_t n_vocab) {
  if (n_vocab < 259 + 96)
    fail("random model: vocabulary of ", n_vocab, " is too small (need >= 355)");
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<double> scores = {0, 0, 0};
  std::vector<int64_t> types = {2, 3, 3};  // UNKNOWN, CONTROL, CONTROL
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.emplace_back(buf);
    scores.push_back(0);
    types.push_back(6);  // BYTE
  }
  const std::string sp = "\xE2\x96\x81";  // ▁
  std::vector<std::string> pieces = {sp};
  for (char c = 33; c < 127; ++c) pieces.emplace_back(1, c);
  const char* letters = "etaoinshrdlcumwfgypbvkjxqz";
  for (int len = 1; static_cast<int64_t>(pieces.size()) + 259 < n_vocab + 64; ++len) {
    // All letter strings of this length (in frequency order), with and without the word marker.
    std::vector<std::string> cur = {""};
    for (int k = 0; k < len; ++k) {
      std::vector<std::string> next;
      for (const auto& s : cur)
        for (const char* l = letters; *l; ++l) next.push_back(s + *l);
      cur = std::move(next);
      if (cur.size() > static_cast<size_t>(n_vocab)) cur.resize(static_cast<size_t>(n_vocab));
    }
    for (const auto& s : cur) {
      pieces.push_back(sp + s);
      if (len > 1) pieces.push_back(s);
    }
  }
  for (const auto& p : pieces) {
    if (static_cast<int64_t>(tokens.size()) == n_vocab) break;
    scores.push_back(-double(tokens.size()));
    tokens.push_back(p);
    types.push_back(1);  // NORMAL
  }
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string("tokenizer.ggml.pre", "default");
  w.set_array("tokenizer.ggml.tokens", GgufWriter::strings(std::move(tokens)));
  w.set_array("tokenizer.ggml.scores", GgufWriter::floats(std::move(scores)));
  w.set_array("tokenizer.ggml.token_type", GgufWriter::ints(std::move(types)));
  w.set_u32("tokenizer.ggml.unknown_token_id", 0);
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  w.set_bool("tokenizer.ggml.add_eos_token", false);
}

}  // namespace

std::optional<ModelShape> model_preset(std::string_view name) {
  for (const auto& p : kPresets)
    if (p.name == name) return p;
  return std::nullopt;
}

std::string model_preset_names() {
  std::string s;
  for (const auto& p : kPresets) s += (s.empty() ? "" : ", ") + p.name;
  return s;
}

void write_random_model(const ModelShape& m, DType type, uint64_t seed,
                        const std::filesystem::path& path, ThreadPool& pool, WeightDist dist) {
  const auto recipe = parse_quant_recipe(type_info(type).name);
  if (!recipe) fail("random model: type ", type_info(type).name, " cannot be a weight type");
  write_random_model(m, *recipe, seed, path, pool, dist);
}

void write_random_model(const ModelShape& m, const QuantRecipe& recipe, uint64_t seed,
                        const std::filesystem::path& path, ThreadPool& pool, WeightDist dist) {
  const int64_t hd = m.head_dim > 0 ? m.head_dim : m.n_embd / m.n_head;
  const std::string a = m.arch;
  GgufWriter w;
  w.set_string("general.architecture", a);
  w.set_string("general.name", m.name + " (random weights)");
  w.set_u32("general.file_type", recipe.file_type);
  w.set_u32(a + ".context_length", static_cast<uint32_t>(m.n_ctx));
  w.set_u32(a + ".embedding_length", static_cast<uint32_t>(m.n_embd));
  w.set_u32(a + ".block_count", static_cast<uint32_t>(m.n_layer));
  w.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(m.n_ff));
  w.set_u32(a + ".attention.head_count", static_cast<uint32_t>(m.n_head));
  w.set_u32(a + ".attention.head_count_kv", static_cast<uint32_t>(m.n_head_kv));
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", m.rms_eps);
  w.set_f32(a + ".rope.freq_base", m.rope_base);
  if (m.head_dim > 0) {
    w.set_u32(a + ".attention.key_length", static_cast<uint32_t>(hd));
    w.set_u32(a + ".attention.value_length", static_cast<uint32_t>(hd));
  }
  if (a == "llama") w.set_u32(a + ".rope.dimension_count", static_cast<uint32_t>(hd));
  add_vocab(w, m.n_vocab);

  uint64_t tensor_no = 0;
  // A 2-D weight [rows, cols] with std gain/sqrt(cols), quantized row by row in parallel.
  auto matrix = [&](const std::string& name, int64_t cols, int64_t rows, float gain,
                    int64_t layer = -1, bool is_output = false) {
    const DType t = weight_type_for(recipe, name, layer, m.n_layer, is_output, cols);
    const uint64_t key = mix(seed ^ mix(++tensor_no));
    const float sd = gain / std::sqrt(static_cast<float>(cols));
    w.add_tensor(name, t, {cols, rows}, [=, &pool](std::span<uint8_t> out) {
      const size_t rb = row_size(t, cols);
      // Per thread: a row, and three normals per element for the Student-t denominators.
      const size_t per = static_cast<size_t>(cols) * 4;
      std::vector<float> tmp(per * static_cast<size_t>(pool.size()));
      pool.run([&](int ith, int nth) {
        float* row = tmp.data() + static_cast<size_t>(ith) * per;
        for (int64_t r = rows * ith / nth; r < rows * (ith + 1) / nth; ++r) {
          if (dist == WeightDist::StudentT3)
            fill_student_t3(row, cols, sd, mix(key + uint64_t(r)), row + cols);
          else
            fill_normal(row, cols, sd, mix(key + uint64_t(r)));
          quant::quantize_row_ref(t, row, out.data() + static_cast<size_t>(r) * rb, cols);
        }
      });
    });
  };
  auto vector = [&](const std::string& name, int64_t n, float base, float noise) {
    const uint64_t key = mix(seed ^ mix(++tensor_no));
    w.add_tensor(name, DType::F32, {n}, [=](std::span<uint8_t> out) {
      std::vector<float> v(static_cast<size_t>(n));
      fill_normal(v.data(), n, noise, key);
      for (auto& x : v) x += base;
      std::memcpy(out.data(), v.data(), out.size());
    });
  };

  matrix("token_embd.weight", m.n_embd, m.n_vocab, 1.0f, -1, m.tied_output);
  vector("output_norm.weight", m.n_embd, 1.0f, 0.1f);
  if (!m.tied_output) matrix("output.weight", m.n_embd, m.n_vocab, 1.0f, -1, true);
  for (int64_t i = 0; i < m.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    vector(p + "attn_norm.weight", m.n_embd, 1.0f, 0.1f);
    matrix(p + "attn_q.weight", m.n_embd, m.n_head * hd, 1.0f, i);
    matrix(p + "attn_k.weight", m.n_embd, m.n_head_kv * hd, 1.0f, i);
    matrix(p + "attn_v.weight", m.n_embd, m.n_head_kv * hd, 1.0f, i);
    if (a == "qwen2") {
      vector(p + "attn_q.bias", m.n_head * hd, 0.0f, 0.1f);
      vector(p + "attn_k.bias", m.n_head_kv * hd, 0.0f, 0.1f);
      vector(p + "attn_v.bias", m.n_head_kv * hd, 0.0f, 0.1f);
    }
    if (a == "qwen3") {
      vector(p + "attn_q_norm.weight", hd, 1.0f, 0.1f);
      vector(p + "attn_k_norm.weight", hd, 1.0f, 0.1f);
    }
    matrix(p + "attn_output.weight", m.n_head * hd, m.n_embd, 1.0f, i);
    vector(p + "ffn_norm.weight", m.n_embd, 1.0f, 0.1f);
    matrix(p + "ffn_gate.weight", m.n_embd, m.n_ff, 1.0f, i);
    matrix(p + "ffn_up.weight", m.n_embd, m.n_ff, 1.0f, i);
    matrix(p + "ffn_down.weight", m.n_ff, m.n_embd, 1.0f, i);
  }
  w.write(path);
}

}  // namespace minima
