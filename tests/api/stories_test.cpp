// End-to-end on a real trained model: stories260K, greedy, "Once upon a time", 200 tokens, against
// llama.cpp's ids and text (../shared/models/stories260K.expected.json). The reference's top-2
// margin at step 181 is 0.004, so only the first 180 ids are required to match exactly.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/kernels/kernels.hpp"
#include "runtime/engine/generate.hpp"
#include "support/test_support.hpp"

namespace minima {
namespace {

constexpr size_t kRequired = 180;

nlohmann::json expected() {
  std::ifstream f(test::shared_dir() / "models" / "stories260K.expected.json");
  return nlohmann::json::parse(f);
}

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int rc = pclose(p);
  EXPECT_EQ(rc, 0) << cmd;
  return out;
}

TEST(Stories260K, GreedyIdsMatchReference) {
  MINIMA_REQUIRE_SHARED("models/stories260K.gguf");
  const auto exp = expected();
  const auto want = exp["generated_tokens"].get<std::vector<int32_t>>();
  ASSERT_EQ(want.size(), 200u);

  const Model model = Model::load(test::shared_dir() / "models" / "stories260K.gguf");
  const Tokenizer tok = Tokenizer::from_gguf(model.file());
  const auto prompt = tok.encode("Once upon a time", true, false);
  ASSERT_EQ(prompt, exp["prompt_tokens"].get<std::vector<int32_t>>());

  ThreadPool pool(2);
  SessionOptions so;
  so.n_ctx = static_cast<int64_t>(prompt.size()) + 200;
  Session s(model, kernels_for(detect_isa()), pool, so);
  SamplingParams sp;
  sp.temperature = 0;
  Sampler sampler(model.hparams().n_vocab, sp);
  GenerateOptions go;
  go.n_predict = 200;
  go.ignore_eos = true;
  std::vector<int32_t> got;
  std::string text;
  generate(
      s, tok, sampler, prompt, go,
      [&](std::string_view t) {
        text += t;
        return true;
      },
      [&](int32_t id) { got.push_back(id); });
  ASSERT_EQ(got.size(), 200u);
  size_t same = 0;
  while (same < got.size() && got[same] == want[same]) ++same;
  EXPECT_GE(same, kRequired) << "first difference at step " << same + 1;
  std::printf("stories260K: %zu/200 greedy ids identical to llama.cpp\n", same);
  if (same == 200) {
    EXPECT_EQ(text, exp["generated_text"].get<std::string>());
  }
}

TEST(Stories260K, CliPrintsTheReferenceText) {
  MINIMA_REQUIRE_SHARED("models/stories260K.gguf");
  const auto exp = expected();
  const auto want = exp["generated_tokens"].get<std::vector<int32_t>>();
  const Model model = Model::load(test::shared_dir() / "models" / "stories260K.gguf");
  const Tokenizer tok = Tokenizer::from_gguf(model.file());
  // The text of the first 180 reference tokens is what minima generate must print first.
  const std::string required = tok.decode(std::span(want.data(), kRequired), false);
  const std::string full = exp["generated_text"].get<std::string>();
  ASSERT_EQ(full.substr(0, required.size()), required);

  const std::string out =
      run_capture(test::minima_binary().string() + " generate --model " +
                  (test::shared_dir() / "models" / "stories260K.gguf").string() +
                  " --prompt 'Once upon a time' -n 200 --temp 0 --threads 2");
  EXPECT_EQ(out.substr(0, required.size()), required) << "minima generate printed:\n" << out;
}

}  // namespace
}  // namespace minima
