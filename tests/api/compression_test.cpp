// The compression verbs end to end through the CLI: perplexity against llama-perplexity's number,
// --kl-base, imatrix → quantize --imatrix, and the refusals a user sees (with nothing written and
// nothing already stored lost).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "model/imatrix.hpp"
#include "model/model.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "support/test_support.hpp"
#include "train/shard.hpp"

namespace minima {
namespace {

struct CliRun {
  int rc;
  std::string out;  // stdout and stderr together
};

CliRun run(const std::string& args) {
  const std::string cmd = test::minima_binary().string() + " " + args + " 2>&1";
  CliRun r{-1, {}};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  r.rc = pclose(p);
  return r;
}

std::string data(const std::string& name) {
  return std::string(MINIMA_SOURCE_DIR) + "/tests/model/data/" + name;
}

std::string stories_f32() {
  return (test::shared_dir() / "conformance" / "models" / "stories260K-F32.gguf").string();
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

nlohmann::json last_json(const std::string& out) {
  return nlohmann::json::parse(out.substr(out.find('{')));
}

// Reference: llama.cpp c392e50, `llama-perplexity -m stories260K.gguf -f
// tests/model/data/stories.txt -c 128 -t 2 -ctk f32 -ctv f32` prints "Final estimate: PPL = 4.4504"
// over 22 chunks (with its default F16 KV cache it prints 4.4506; minima's KV cache is F32).
TEST(Perplexity, EqualsLlamaPerplexityOnStories260K) {
  MINIMA_REQUIRE_SHARED("models/stories260K.gguf");
  const CliRun r =
      run("perplexity --model " + (test::shared_dir() / "models" / "stories260K.gguf").string() +
          " --file " + data("stories.txt") + " --ctx 128 --json");
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto j = last_json(r.out);
  EXPECT_EQ(j["windows"], 22);
  EXPECT_EQ(j["scored_tokens"], 22 * 63);
  EXPECT_NEAR(j["perplexity"].get<double>(), 4.4504, 0.00005) << r.out;
}

TEST(Perplexity, KlAgainstItselfIsZero) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  const CliRun r = run("perplexity --model " + stories_f32() + " --kl-base " + stories_f32() +
                       " --file " + data("stories.txt") + " --ctx 128 --json");
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto j = last_json(r.out);
  EXPECT_NEAR(j["kl_mean"].get<double>(), 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(j["top1_agreement"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["base_perplexity"].get<double>(), j["perplexity"].get<double>());
}

// Calibrate on one text, judge on another: an importance matrix must lower the KL divergence to
// the F32 model for the legacy types it changes.
TEST(Imatrix, CalibrationLowersKlOfLegacyQuantizations) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  const auto dir = test::temp_dir("imatrix-cli");
  const std::string im = (dir / "stories.imatrix").string();
  CliRun r = run("imatrix --model " + stories_f32() + " --file " + data("calibration.txt") +
                 " --ctx 128 --out " + im);
  ASSERT_EQ(r.rc, 0) << r.out;
  const ImportanceMatrix m = read_imatrix(im);
  EXPECT_EQ(m.size(), 5u * 7u + 1u);  // 7 matrices per block, and the output
  for (const auto& [name, v] : m)
    for (float x : v) ASSERT_GE(x, 0.0f) << name;

  for (const char* type : {"Q4_0", "Q4_1"}) {
    auto kl = [&](const std::string& extra) {
      const std::string q =
          (dir / (std::string(type) + std::to_string(extra.size()) + ".gguf")).string();
      const CliRun qr =
          run("quantize " + stories_f32() + " " + q + " " + type + " --quiet" + extra);
      EXPECT_EQ(qr.rc, 0) << qr.out;
      const CliRun pr = run("perplexity --model " + q + " --kl-base " + stories_f32() + " --file " +
                            data("stories.txt") + " --ctx 128 --json");
      EXPECT_EQ(pr.rc, 0) << pr.out;
      return last_json(pr.out)["kl_mean"].get<double>();
    };
    const double plain = kl(""), weighted = kl(" --imatrix " + im);
    EXPECT_LT(weighted, 0.95 * plain) << type;
  }
}

TEST(QuantizeCli, RefusalsNameTheProblemAndKeepExistingFiles) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  const auto dir = test::temp_dir("quantize-cli");
  const std::string out = (dir / "out.gguf").string();
  { std::ofstream(out) << "precious"; }
  CliRun r = run("quantize " + stories_f32() + " " + out + " Q4_0 --pure");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("blk.0.ffn_down.weight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--keep"), std::string::npos) << r.out;  // says how to get past it

  r = run("quantize " + stories_f32() + " " + out + " Q4_X");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("unknown type 'Q4_X'"), std::string::npos) << r.out;

  r = run("quantize " + stories_f32() + " " + out + " Q4_0 --keep 'ffn_(down=F16'");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("bad regular expression"), std::string::npos) << r.out;

  r = run("quantize " + stories_f32() + " " + out + " Q4_0 --imatrix " + (dir / "none").string());
  EXPECT_NE(r.rc, 0);

  r = run("quantize " + stories_f32() + " " + stories_f32() + " Q4_0");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("overwrite the input"), std::string::npos) << r.out;

  std::ifstream f(out);
  std::string kept((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, "precious");
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));

  // And the way past the first refusal works: pure Q4_0 with ffn_down kept at F16.
  r = run("quantize " + stories_f32() + " " + out + " Q4_0 --pure --keep 'ffn_down=F16' --quiet");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("wrote"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace minima

namespace minima {
namespace {

TEST(PruneCli, RatioOneIsTheTeacherAndCompareSaysSo) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  const auto dir = test::temp_dir("prune-cli");
  const std::string same = (dir / "same.gguf").string(), half = (dir / "half.gguf").string();
  CliRun r = run("prune --model " + stories_f32() + " --calib " + data("calibration.txt") +
                 " --ratio 1 --ctx 128 --out " + same);
  ASSERT_EQ(r.rc, 0) << r.out;
  r = run("prune --model " + stories_f32() + " --calib " + data("calibration.txt") +
          " --ratio 0.5 --align 8 --ctx 128 --out " + half);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("KV groups 3/4"), std::string::npos) << r.out;
  r = run("compare --models " + stories_f32() + " " + same + " " + half + " --file " +
          data("stories.txt") + " --ctx 128 --speed-prompt 16 --speed-gen 4 --json");
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto j = last_json(r.out)["models"];
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[1]["params"], j[0]["params"]);
  EXPECT_NEAR(j[1]["kl_mean"].get<double>(), 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(j[1]["top1_agreement"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j[1]["perplexity"].get<double>(), j[0]["perplexity"].get<double>());
  EXPECT_LT(j[2]["params"].get<int64_t>(), j[0]["params"].get<int64_t>() * 51 / 100);
  EXPECT_GT(j[2]["kl_mean"].get<double>(), 0.0);
  EXPECT_GT(j[2]["decode_tps"].get<double>(), 0.0);
}

// --calib-shard feeds the same importance measurement from a token shard: a shard holding exactly
// the tokens the text tokenizes to gives a byte-identical student, and --calib-tokens takes a
// prefix (fewer tokens, a different ranking input: the file may differ but must load).
TEST(PruneCli, CalibrationFromAShardEqualsTheSameTokensAsText) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  const auto dir = test::temp_dir("prune-shard");
  const Model teacher = Model::load(stories_f32());
  const std::vector<int32_t> ids =
      Tokenizer::from_gguf(teacher.file()).encode(slurp(data("calibration.txt")), true, false);
  const std::string shard = (dir / "calib.tok").string();
  {
    train::ShardWriter w(shard, uint32_t(teacher.hparams().n_vocab));
    w.append(ids);
    w.finish();
  }
  const std::string a = (dir / "a.gguf").string(), b = (dir / "b.gguf").string(),
                    c = (dir / "c.gguf").string();
  const std::string common = " --model " + stories_f32() + " --ratio 0.5 --align 8 --ctx 128";
  CliRun r = run("prune" + common + " --calib " + data("calibration.txt") + " --out " + a);
  ASSERT_EQ(r.rc, 0) << r.out;
  r = run("prune" + common + " --calib-shard " + shard + " --out " + b);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(slurp(a), slurp(b));
  r = run("prune" + common + " --calib-shard " + shard + " --calib-tokens 256 --out " + c);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("importance from 2 windows of 128"), std::string::npos) << r.out;
  EXPECT_NO_THROW(Model::load(c));
  r = run("prune" + common + " --calib " + data("calibration.txt") + " --calib-shard " + shard +
          " --out " + c);
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("give one of --calib"), std::string::npos) << r.out;
}

TEST(PruneCli, ImpossibleTargetsAreExplained) {
  MINIMA_REQUIRE_SHARED("conformance/models");
  const auto out = (test::temp_dir("prune-cli") / "x.gguf").string();
  CliRun r = run("prune --model " + stories_f32() + " --calib " + data("calibration.txt") +
                 " --target-params 1000 --axes ffn --out " + out);
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("smallest model these axes allow"), std::string::npos) << r.out;
  r = run("prune --model " + stories_f32() + " --calib " + data("calibration.txt") +
          " --ratio 0.5 --target-params 1000 --out " + out);
  EXPECT_NE(r.rc, 0);
  r = run("prune --model " + stories_f32() + " --calib " + data("calibration.txt") +
          " --ratio 0.5 --axes legs --out " + out);
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("unknown axis 'legs'"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace minima
