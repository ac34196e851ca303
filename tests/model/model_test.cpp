// Model loading errors and forward-pass invariants on small random models written with the GGUF
// writer (no ../shared needed).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>

#include "core/error.hpp"
#include "core/kernels/kernels.hpp"
#include "model/forward.hpp"
#include "model/gguf/writer.hpp"
#include "model/random_model.hpp"
#include "support/test_support.hpp"

namespace minima {
namespace {

ModelShape tiny(const std::string& arch) {
  ModelShape m;
  m.name = "tiny-" + arch;
  m.arch = arch;
  m.n_vocab = 512;
  m.n_embd = 256;
  m.n_layer = 2;
  m.n_head = 4;
  m.n_head_kv = 2;
  m.n_ff = 512;
  m.n_ctx = 128;
  m.tied_output = arch != "llama";
  return m;
}

class ModelFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { dir_ = new std::filesystem::path(test::temp_dir("model")); }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::filesystem::path write(const ModelShape& s, DType t) {
    const auto p = *dir_ / (s.name + "-" + std::string(type_info(t).name) + ".gguf");
    if (!std::filesystem::exists(p)) {
      ThreadPool pool(2);
      write_random_model(s, t, 1234, p, pool);
    }
    return p;
  }
  static std::string load_error(const std::filesystem::path& p) {
    try {
      Model::load(p);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  static std::filesystem::path* dir_;
};
std::filesystem::path* ModelFiles::dir_ = nullptr;

// Copies a model's metadata and tensors into a new file, letting the test edit both.
std::filesystem::path rewrite(const std::filesystem::path& src, const std::string& out_name,
                              const std::function<void(GgufWriter&)>& edit_meta,
                              const std::string& drop_tensor = "",
                              const std::string& reshape_tensor = "") {
  const GgufFile f = GgufFile::open(src);
  GgufWriter w;
  w.copy_metadata_from(f);
  edit_meta(w);
  for (const auto& t : f.tensors()) {
    if (t.name == drop_tensor) continue;
    std::vector<int64_t> shape(t.ne.begin(), t.ne.begin() + t.n_dims);
    if (t.name == reshape_tensor) shape = {shape[0] * (t.n_dims > 1 ? shape[1] : 1) / 2, 2};
    const uint8_t* d = t.data;
    w.add_tensor(t.name, t.type, shape,
                 [d](std::span<uint8_t> o) { std::memcpy(o.data(), d, o.size()); });
  }
  const auto out = src.parent_path() / out_name;
  w.write(out);
  return out;
}

TEST_F(ModelFiles, LoadsEachArchitecture) {
  for (const char* arch : {"llama", "qwen2", "qwen3"}) {
    const Model m = Model::load(write(tiny(arch), DType::F32));
    EXPECT_EQ(m.arch().name, arch);
    EXPECT_EQ(m.hparams().n_layer, 2);
    EXPECT_EQ(m.tied_output(), std::string(arch) != "llama");
    EXPECT_EQ(!m.layers()[0].bq.empty(), std::string(arch) == "qwen2");
    EXPECT_EQ(!m.layers()[0].q_norm.empty(), std::string(arch) == "qwen3");
  }
}

TEST_F(ModelFiles, UnsupportedArchitectureListsTheSupportedOnes) {
  const auto p = rewrite(write(tiny("llama"), DType::F32), "gpt.gguf",
                         [](GgufWriter& w) { w.set_string("general.architecture", "gptj"); });
  const std::string m = load_error(p);
  EXPECT_NE(m.find("'gptj' is not supported"), std::string::npos) << m;
  EXPECT_NE(m.find("llama, qwen2, qwen3"), std::string::npos) << m;
}

TEST_F(ModelFiles, MissingTensorIsNamed) {
  const auto p = rewrite(
      write(tiny("llama"), DType::F32), "missing.gguf", [](GgufWriter&) {}, "blk.1.ffn_up.weight");
  const std::string m = load_error(p);
  EXPECT_NE(m.find("missing tensor 'blk.1.ffn_up.weight'"), std::string::npos) << m;
  EXPECT_NE(m.find("[256, 512]"), std::string::npos) << m;  // the expected shape
}

TEST_F(ModelFiles, MissingQwenBiasAndQkNormAreNamed) {
  const auto p = rewrite(
      write(tiny("qwen2"), DType::F32), "nobias.gguf", [](GgufWriter&) {}, "blk.0.attn_k.bias");
  EXPECT_NE(load_error(p).find("'blk.0.attn_k.bias'"), std::string::npos);
  const auto q = rewrite(
      write(tiny("qwen3"), DType::F32), "nonorm.gguf", [](GgufWriter&) {},
      "blk.1.attn_q_norm.weight");
  EXPECT_NE(load_error(q).find("'blk.1.attn_q_norm.weight'"), std::string::npos);
}

TEST_F(ModelFiles, WrongShapeIsNamed) {
  const auto p = rewrite(
      write(tiny("llama"), DType::F32), "shape.gguf", [](GgufWriter&) {}, "",
      "blk.0.attn_q.weight");
  const std::string m = load_error(p);
  EXPECT_NE(m.find("'blk.0.attn_q.weight' has shape"), std::string::npos) << m;
  EXPECT_NE(m.find("expected [256, 256]"), std::string::npos) << m;
}

TEST_F(ModelFiles, BadHyperparametersAreNamed) {
  const auto src = write(tiny("llama"), DType::F32);
  auto err = [&](const std::string& name, const std::function<void(GgufWriter&)>& edit) {
    return load_error(rewrite(src, name, edit));
  };
  EXPECT_NE(err("nolayers.gguf", [](GgufWriter& w) { w.set_u32("llama.block_count", 0); })
                .find("llama.block_count"),
            std::string::npos);
  EXPECT_NE(err("gqa.gguf", [](GgufWriter& w) { w.set_u32("llama.attention.head_count_kv", 3); })
                .find("head_count_kv"),
            std::string::npos);
  EXPECT_NE(err("type.gguf", [](GgufWriter& w) { w.set_string("llama.embedding_length", "big"); })
                .find("llama.embedding_length"),
            std::string::npos);
  EXPECT_NE(err("rope.gguf", [](GgufWriter& w) { w.set_string("llama.rope.scaling.type", "yarn"); })
                .find("yarn"),
            std::string::npos);
}

TEST_F(ModelFiles, VocabOnlyFileCannotBeRun) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  const auto p = std::filesystem::path(test::temp_dir("vocab")) / "v.gguf";
  w.write(p);
  EXPECT_NE(load_error(p).find("no tensors"), std::string::npos);
}

std::vector<float> run_logits(const Model& m, const std::vector<int32_t>& toks, bool incremental,
                              bool exact, int threads) {
  ThreadPool pool(threads);
  SessionOptions so;
  so.n_ctx = 64;
  so.n_batch = incremental ? 1 : 64;
  so.exact = exact;
  Session s(m, kernels_for(detect_isa()), pool, so);
  const int64_t V = m.hparams().n_vocab;
  std::vector<float> out(toks.size() * static_cast<size_t>(V));
  if (incremental) {
    for (size_t i = 0; i < toks.size(); ++i)
      s.eval(std::span(&toks[i], 1), &out[i * static_cast<size_t>(V)]);
  } else {
    s.eval(toks, out.data());
  }
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
  return d;
}

TEST_F(ModelFiles, BatchIncrementalThreadsAndExactAgreeOnF32) {
  // With F32 weights every path computes the same F32 math, differing only in summation order;
  // logits here are O(10), float sums of 256-512 terms: differences stay far below 1e-3.
  const std::vector<int32_t> toks = {1, 5, 99, 300, 7, 7, 42, 511, 0, 2, 17, 256};
  for (const char* arch : {"llama", "qwen2", "qwen3"}) {
    const Model m = Model::load(write(tiny(arch), DType::F32));
    const auto ref = run_logits(m, toks, false, true, 1);
    EXPECT_LT(max_abs_diff(ref, run_logits(m, toks, true, true, 1)), 1e-3) << arch;
    EXPECT_LT(max_abs_diff(ref, run_logits(m, toks, false, false, 2)), 1e-3) << arch;
    EXPECT_LT(max_abs_diff(ref, run_logits(m, toks, true, false, 3)), 1e-3) << arch;
  }
}

TEST_F(ModelFiles, QuantizedFastPathStaysCloseToExact) {
  // Q8 activations add rounding noise of ~1/254 of each block's max per element; on these
  // random models that moves logits by O(0.1) at most — far from a wrong-weights error (O(10)).
  const std::vector<int32_t> toks = {1, 5, 99, 300, 7, 42, 511, 17};
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K,
                  DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::F16, DType::BF16}) {
    const Model m = Model::load(write(tiny("llama"), t));
    const auto exact = run_logits(m, toks, false, true, 2);
    const auto fast = run_logits(m, toks, false, false, 2);
    EXPECT_LT(max_abs_diff(exact, fast), 0.5) << type_info(t).name;
  }
}

TEST_F(ModelFiles, ContextOverflowAndBadTokensAreErrors) {
  const Model m = Model::load(write(tiny("llama"), DType::F32));
  ThreadPool pool(1);
  SessionOptions so;
  so.n_ctx = 4;
  Session s(m, kernels_for(Isa::Scalar), pool, so);
  EXPECT_THROW(s.eval(std::vector<int32_t>{1, 2, 3, 4, 5}), Error);
  EXPECT_THROW(s.eval(std::vector<int32_t>{512}), Error);
  EXPECT_THROW(s.eval(std::vector<int32_t>{-1}), Error);
  EXPECT_NO_THROW(s.eval(std::vector<int32_t>{1, 2, 3, 4}));
}

}  // namespace
}  // namespace minima
