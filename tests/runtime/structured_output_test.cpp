// Structured outputs, end to end: for every schema of data/structured_schemas.json (each supported
// keyword, nested and recursive schemas), 50 samples at temperature 1.0 (no top-k/top-p/min-p:
// the model's whole distribution) from stories260K and from the random-weight conformance models
// of three architectures, constrained by the compiled grammar. Every sample must end by itself
// (the grammar completes before the token budget), and tests/runtime/validate_json.py — Debian's
// python3-jsonschema, independent of minima — must find every one parsing and valid, and the
// samples of each schema (pooled over the models) diverse.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/kernels/kernels.hpp"
#include "core/threads.hpp"
#include "model/forward.hpp"
#include "runtime/engine/generate.hpp"
#include "runtime/grammar/grammar.hpp"
#include "runtime/grammar/json_schema.hpp"
#include "runtime/grammar/token_mask.hpp"
#include "support/test_support.hpp"

namespace minima {
namespace {

constexpr int kSamples = 50;
constexpr int64_t kMaxTokens = 1500;

std::string source_dir() {
  return std::string(MINIMA_SOURCE_DIR);
}

TEST(StructuredOutput, EverySampleOfEverySchemaValidates) {
  MINIMA_REQUIRE_SHARED("models/stories260K.gguf");
  MINIMA_REQUIRE_SHARED("conformance/models");
  std::ifstream in(source_dir() + "/tests/runtime/data/structured_schemas.json");
  ASSERT_TRUE(in) << "missing tests/runtime/data/structured_schemas.json";
  const auto cases = nlohmann::ordered_json::parse(in);
  ASSERT_GE(cases.size(), 30u);

  const auto shared = test::shared_dir();
  const std::vector<std::filesystem::path> models = {
      shared / "models" / "stories260K.gguf",
      shared / "conformance" / "models" / "llama-tiny-Q4_0.gguf",
      shared / "conformance" / "models" / "qwen2-tiny-Q8_0.gguf",
      shared / "conformance" / "models" / "qwen3-tiny-Q4_K_M.gguf",
  };
  ThreadPool pool(1);
  const KernelSet& ks = kernels_for(detect_isa());
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const auto& path : models) {
    const Model model = Model::load(path);
    const Tokenizer tok = Tokenizer::from_gguf(model.file());
    const grammar::TokenTrie trie = grammar::TokenTrie::from_tokenizer(tok);
    const std::vector<int32_t> prompt = tok.encode("Once upon a time", true, false);
    SessionOptions so;
    so.n_ctx = static_cast<int64_t>(prompt.size()) + kMaxTokens;
    Session session(model, ks, pool, so);
    for (const auto& c : cases) {
      GenerateOptions go;
      go.n_predict = kMaxTokens;
      go.trie = &trie;
      go.grammar = std::make_shared<const grammar::Grammar>(
          grammar::Grammar::parse(grammar::json_schema_to_gbnf(c["schema"])));
      nlohmann::ordered_json outputs = nlohmann::ordered_json::array();
      for (int i = 0; i < kSamples; ++i) {
        SamplingParams sp;
        sp.temperature = 1.0f;
        sp.top_k = 0;
        sp.top_p = 1.0f;
        sp.min_p = 0.0f;
        sp.seed = 1000 + static_cast<uint64_t>(i);
        Sampler sampler(model.hparams().n_vocab, sp);
        session.reset();
        std::string text;
        const GenerateResult r = generate(
            session, tok, sampler, prompt, go,
            [&](std::string_view t) {
              text += t;
              return true;
            },
            [](int32_t) {});
        ASSERT_NE(r.finish, FinishReason::Length)
            << path.filename() << " " << c["name"] << " sample " << i
            << ": the grammar did not complete in " << kMaxTokens << " tokens: " << text;
        outputs.push_back(text);
      }
      nlohmann::ordered_json rec;
      rec["model"] = path.filename().string();
      rec["name"] = c["name"];
      rec["schema"] = c["schema"];
      if (c.contains("min_distinct")) rec["min_distinct"] = c["min_distinct"];
      rec["outputs"] = std::move(outputs);
      results.push_back(std::move(rec));
    }
  }
  const auto dir = test::temp_dir("structured");
  const auto file = dir / "outputs.json";
  std::ofstream(file) << results.dump(1);
  const std::string cmd = "/usr/bin/python3 " + source_dir() + "/tests/runtime/validate_json.py " +
                          file.string() + " > " + (dir / "report.txt").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream rep(dir / "report.txt");
  std::stringstream ss;
  ss << rep.rdbuf();
  EXPECT_EQ(rc, 0) << ss.str();
  std::cout << ss.str();
}

}  // namespace
}  // namespace minima
