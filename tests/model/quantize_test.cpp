// minima quantize against the reference files of ../shared/conformance/models (written by
// llama-quantize from the *-F32.gguf files of the same pack):
//   * legacy types (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1: deterministic rounding) reproduce every tensor
//     bit for bit, stories260K's F16 fallback for rows of 172 included;
//   * K types and the mixed presets choose the same type for every tensor as llama-quantize and
//     land at or below the reference file's relative RMSE against the F32 source;
//   * impossible requests are refused with messages naming the tensor, and nothing is written.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "core/error.hpp"
#include "core/quant/quant.hpp"
#include "model/gguf/gguf.hpp"
#include "model/imatrix.hpp"
#include "model/quantize.hpp"
#include "support/test_support.hpp"

namespace minima {
namespace {

std::filesystem::path pack_model(const std::string& name) {
  return test::shared_dir() / "conformance" / "models" / name;
}

QuantizeOptions options(const std::string& type, bool pure) {
  QuantizeOptions o;
  o.recipe = *parse_quant_recipe(type);
  o.pure = pure;
  return o;
}

std::filesystem::path quantize_to(const std::filesystem::path& in, const QuantizeOptions& o,
                                  const std::string& tag) {
  const GgufFile f = GgufFile::open(in);
  const auto out = test::temp_dir("quantize") / (tag + ".gguf");
  ThreadPool pool(2);
  quantize_model(f, plan_quantization(f, o), o, out, pool);
  return out;
}

std::vector<float> dequantized(const GgufTensorInfo& t) {
  std::vector<float> v(size_t(t.n_elements()));
  const size_t rb = row_size(t.type, t.ne[0]);
  for (int64_t r = 0; r < t.n_rows(); ++r)
    quant::dequantize_row_ref(t.type, t.data + size_t(r) * rb, v.data() + r * t.ne[0], t.ne[0]);
  return v;
}

// ‖q − src‖ / ‖src‖ over all 2-D tensors.
double rel_rmse(const GgufFile& src, const GgufFile& q) {
  double err = 0, ref = 0;
  for (const auto& t : src.tensors()) {
    if (t.n_dims < 2) continue;
    const auto a = dequantized(t), b = dequantized(*q.find_tensor(t.name));
    for (size_t i = 0; i < a.size(); ++i) {
      err += (double(b[i]) - a[i]) * (double(b[i]) - a[i]);
      ref += double(a[i]) * a[i];
    }
  }
  return std::sqrt(err / ref);
}

const char* kTiny[] = {"llama-tiny", "qwen2-tiny", "qwen3-tiny"};

TEST(Quantize, LegacyTypesReproduceTheReferenceFilesBitForBit) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  for (const char* m : kTiny) {
    for (const char* type : {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"}) {
      const auto out = quantize_to(pack_model(std::string(m) + "-F32.gguf"), options(type, true),
                                   std::string(m) + type);
      const GgufFile ours = GgufFile::open(out);
      const GgufFile ref = GgufFile::open(pack_model(std::string(m) + "-" + type + ".gguf"));
      ASSERT_EQ(ours.tensors().size(), ref.tensors().size());
      for (const auto& t : ref.tensors()) {
        const GgufTensorInfo* o = ours.find_tensor(t.name);
        ASSERT_NE(o, nullptr) << t.name;
        EXPECT_EQ(o->type, t.type) << m << " " << type << " " << t.name;
        ASSERT_EQ(o->nbytes, t.nbytes) << t.name;
        EXPECT_EQ(std::memcmp(o->data, t.data, t.nbytes), 0) << m << " " << type << " " << t.name;
      }
      EXPECT_EQ(ours.get_u32("general.file_type"), ref.get_u32("general.file_type"));
      EXPECT_EQ(ours.get_string("general.architecture"), ref.get_string("general.architecture"));
      EXPECT_EQ(ours.get_array("tokenizer.ggml.tokens")->strings,
                ref.get_array("tokenizer.ggml.tokens")->strings);
    }
  }
}

// stories260K's ffn_down rows have 172 elements: they fall back to F16 as the reference's did.
TEST(Quantize, Stories260KFallsBackToF16LikeTheReference) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  for (const char* type : {"Q8_0", "Q4_0"}) {
    const auto out = quantize_to(pack_model("stories260K-F32.gguf"), options(type, false),
                                 std::string("stories") + type);
    const GgufFile ours = GgufFile::open(out);
    const GgufFile ref = GgufFile::open(pack_model(std::string("stories260K-") + type + ".gguf"));
    for (const auto& t : ref.tensors()) {
      const GgufTensorInfo* o = ours.find_tensor(t.name);
      ASSERT_NE(o, nullptr);
      EXPECT_EQ(o->type, t.type) << t.name;
      ASSERT_EQ(o->nbytes, t.nbytes) << t.name;
      EXPECT_EQ(std::memcmp(o->data, t.data, t.nbytes), 0) << type << " " << t.name;
    }
  }
}

TEST(Quantize, KTypesMatchTheReferenceTypesAndBeatItsError) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  for (const char* m : kTiny) {
    const GgufFile src = GgufFile::open(pack_model(std::string(m) + "-F32.gguf"));
    for (const char* type :
         {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q3_K_M", "Q4_K_M", "Q5_K_M"}) {
      const bool pure = std::string(type).size() == 4;  // Q4_K vs Q4_K_M
      const auto out = quantize_to(pack_model(std::string(m) + "-F32.gguf"), options(type, pure),
                                   std::string(m) + type);
      const GgufFile ours = GgufFile::open(out);
      const GgufFile ref = GgufFile::open(pack_model(std::string(m) + "-" + type + ".gguf"));
      for (const auto& t : ref.tensors())
        EXPECT_EQ(ours.find_tensor(t.name)->type, t.type) << m << " " << type << " " << t.name;
      const double mine = rel_rmse(src, ours), theirs = rel_rmse(src, ref);
      EXPECT_LE(mine, theirs) << m << " " << type;
      EXPECT_GT(mine, 0.3 * theirs) << m << " " << type;  // a lossy format stays lossy
    }
  }
}

TEST(Quantize, RefusesImpossibleRequestsNamingTheTensor) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  const GgufFile stories = GgufFile::open(pack_model("stories260K-F32.gguf"));
  try {
    plan_quantization(stories, options("Q4_0", true));
    FAIL() << "pure Q4_0 with rows of 172 must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blk.0.ffn_down.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("172"), std::string::npos) << e.what();
  }
  const GgufFile q8 = GgufFile::open(pack_model("llama-tiny-Q8_0.gguf"));
  try {
    plan_quantization(q8, options("Q4_0", true));
    FAIL() << "requantizing must need --allow-requantize";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already quantized"), std::string::npos) << e.what();
  }
  auto allow = options("Q4_0", true);
  allow.allow_requantize = true;
  EXPECT_NO_THROW(plan_quantization(q8, allow));

  ImportanceMatrix bad{{"blk.0.attn_q.weight", std::vector<float>(7, 1.0f)}};
  auto with_bad = options("Q4_K", true);
  with_bad.importance = &bad;
  const GgufFile f32 = GgufFile::open(pack_model("llama-tiny-F32.gguf"));
  EXPECT_THROW(plan_quantization(f32, with_bad), Error);
}

TEST(Quantize, OverridesPickTheTypeOfMatchingTensors) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  auto o = options("Q4_0", true);
  o.overrides.push_back(
      {"output", [](std::string_view n) { return n == "output.weight"; }, DType::Q8_0});
  o.overrides.push_back(
      {"ffn_down", [](std::string_view n) { return n.find("ffn_down") != n.npos; }, DType::F16});
  const GgufFile f = GgufFile::open(pack_model("stories260K-F32.gguf"));
  const auto plan = plan_quantization(f, o);  // pure Q4_0 is possible once ffn_down is F16
  for (const auto& t : plan) {
    if (t.name == "output.weight") {
      EXPECT_EQ(t.to, DType::Q8_0);
    } else if (t.name.find("ffn_down") != std::string::npos) {
      EXPECT_EQ(t.to, DType::F16);
    } else if (t.name == "blk.0.attn_q.weight") {
      EXPECT_EQ(t.to, DType::Q4_0);
    } else if (t.shape.size() == 1) {
      EXPECT_FALSE(t.quantize) << t.name;  // norms stay as they are
    }
  }
}

TEST(Quantize, ImportanceIsUsedWhereItsShapeFits) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  const GgufFile f = GgufFile::open(pack_model("llama-tiny-F32.gguf"));
  const int64_t cols = f.find_tensor("blk.0.attn_q.weight")->ne[0];
  ImportanceMatrix imp{{"blk.0.attn_q.weight", std::vector<float>(size_t(cols), 1.0f)}};
  imp["blk.0.attn_q.weight"][3] = 100.0f;
  auto o = options("Q4_K", true);
  o.importance = &imp;
  const auto plan = plan_quantization(f, o);
  int weighted = 0;
  for (const auto& t : plan) weighted += t.weighted;
  EXPECT_EQ(weighted, 1);
  const auto out = quantize_to(pack_model("llama-tiny-F32.gguf"), o, "imp");
  const GgufFile q = GgufFile::open(out);
  // Column 3 carries 100× the weight: its error over the rows is smaller than without importance.
  const auto without =
      quantize_to(pack_model("llama-tiny-F32.gguf"), options("Q4_K", true), "noimp");
  const GgufFile q0 = GgufFile::open(without);
  const auto src = dequantized(*f.find_tensor("blk.0.attn_q.weight"));
  const auto a = dequantized(*q.find_tensor("blk.0.attn_q.weight"));
  const auto b = dequantized(*q0.find_tensor("blk.0.attn_q.weight"));
  double ea = 0, eb = 0;
  for (size_t i = 3; i < src.size(); i += size_t(cols)) {
    ea += (a[i] - src[i]) * (a[i] - src[i]);
    eb += (b[i] - src[i]) * (b[i] - src[i]);
  }
  EXPECT_LT(ea, eb);
}

TEST(Imatrix, FileRoundTripsAndTruncationIsAnError) {
  const auto dir = test::temp_dir("imatrix");
  ImportanceMatrix m{{"blk.0.attn_q.weight", {1.0f, 2.0f, 0.5f}}, {"output.weight", {3.0f, 0.0f}}};
  write_imatrix(dir / "m.dat", m, 7, "calibration.txt");
  const ImportanceMatrix r = read_imatrix(dir / "m.dat");
  ASSERT_EQ(r.size(), 2u);
  for (const auto& [k, v] : m) {
    ASSERT_EQ(r.at(k).size(), v.size());
    for (size_t i = 0; i < v.size(); ++i) EXPECT_FLOAT_EQ(r.at(k)[i], v[i]);
  }
  const auto size = std::filesystem::file_size(dir / "m.dat");
  std::filesystem::resize_file(dir / "m.dat", size - 30);
  try {
    read_imatrix(dir / "m.dat");
    FAIL() << "a truncated file must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("m.dat"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "junk.dat") << "not an imatrix at all, just some text";
  EXPECT_THROW(read_imatrix(dir / "junk.dat"), Error);
}

}  // namespace
}  // namespace minima
