// The serving engine on the real stories260K model: continuous batching gives every request the
// same tokens it gets alone, n > 1 choices, the prefix cache, cancellation and admission limits.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/kernels/kernels.hpp"
#include "runtime/engine/engine.hpp"
#include "runtime/engine/generate.hpp"
#include "runtime/grammar/grammar.hpp"
#include "support/test_support.hpp"

namespace minima {
namespace {

using namespace std::chrono_literals;

struct Result {
  std::vector<std::string> text;
  std::vector<std::string> finish;
  Usage usage;
  std::string error;
  int status = 0;
};

Result collect(GenRequest& r, int n = 1) {
  Result res;
  res.text.resize(static_cast<size_t>(n));
  res.finish.resize(static_cast<size_t>(n));
  for (;;) {
    Event e;
    if (!r.events.pop(e, 30s)) {
      res.error = "timeout";
      return res;
    }
    switch (e.kind) {
      case Event::Kind::Delta:
        res.text[static_cast<size_t>(e.choice)] += e.text;
        break;
      case Event::Kind::ChoiceDone:
        res.finish[static_cast<size_t>(e.choice)] = e.finish_reason;
        break;
      case Event::Kind::Done:
        res.usage = e.usage;
        return res;
      case Event::Kind::Error:
        res.error = e.error;
        res.status = e.http_status;
        return res;
    }
  }
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIMA_REQUIRE_SHARED("models/stories260K.gguf");
    model_ =
        std::make_unique<Model>(Model::load(test::shared_dir() / "models" / "stories260K.gguf"));
    tok_ = std::make_unique<Tokenizer>(Tokenizer::from_gguf(model_->file()));
  }
  std::unique_ptr<Engine> engine(EngineOptions o = {}) {
    if (o.n_ctx == 2048) o.n_ctx = 512;
    return std::make_unique<Engine>(*model_, *tok_, kernels_for(detect_isa()), pool_, o);
  }
  std::shared_ptr<GenRequest> request(const std::string& prompt, int64_t max_tokens,
                                      float temp = 0) {
    auto r = std::make_shared<GenRequest>();
    r->prompt = tok_->encode(prompt, true, false);
    r->max_tokens = max_tokens;
    r->sampling.temperature = temp;
    r->ignore_eos = true;
    return r;
  }
  // What the single-sequence path generates greedily (the reference for batching).
  std::string alone(const std::string& prompt, int64_t n) {
    SessionOptions so;
    so.n_ctx = 512;
    Session s(*model_, kernels_for(detect_isa()), alone_pool_, so);
    SamplingParams sp;
    sp.temperature = 0;
    Sampler sampler(model_->hparams().n_vocab, sp);
    GenerateOptions go;
    go.n_predict = n;
    go.ignore_eos = true;
    std::string text;
    generate(
        s, *tok_, sampler, tok_->encode(prompt, true, false), go,
        [&](std::string_view t) {
          text += t;
          return true;
        },
        [](int32_t) {});
    return text;
  }

  ThreadPool pool_{2};
  ThreadPool alone_pool_{2};  // the engine thread may still be stepping while alone() runs
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tok_;
};

const char* kPrompts[] = {"Once upon a time",
                          "The little dog",
                          "Lily and Tom went to the park",
                          "One day, a big bird",
                          "There was a girl who loved",
                          "The sun was shining and",
                          "Tim had a red ball",
                          "Mom said"};

TEST_F(EngineTest, SingleRequestMatchesTheSessionPath) {
  auto e = engine();
  auto r = request(kPrompts[0], 40);
  ASSERT_TRUE(e->submit(r));
  const Result res = collect(*r);
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.text[0], alone(kPrompts[0], 40));
  EXPECT_TRUE(res.text[0].starts_with(", there was a little girl named")) << res.text[0];
  EXPECT_EQ(res.finish[0], "length");
  EXPECT_EQ(res.usage.completion_tokens, 40);
  EXPECT_EQ(res.usage.prompt_tokens, static_cast<int64_t>(r->prompt.size()));
}

TEST_F(EngineTest, ConcurrentRequestsGetWhatTheyGetAlone) {
  auto e = engine();
  std::vector<std::shared_ptr<GenRequest>> rs;
  for (const char* p : kPrompts) {
    rs.push_back(request(p, 45));
    ASSERT_TRUE(e->submit(rs.back()));
  }
  for (size_t i = 0; i < rs.size(); ++i) {
    const Result res = collect(*rs[i]);
    ASSERT_EQ(res.error, "");
    EXPECT_GT(res.text[0].size(), 30u);  // 30 tokens of story text
    EXPECT_EQ(res.text[0], alone(kPrompts[i], 45)) << "prompt " << i;
  }
  EXPECT_GT(e->stats().steps, 0);
}

TEST_F(EngineTest, SeveralChoicesDifferAndAreReproducible) {
  auto e = engine();
  auto run = [&] {
    auto r = request(kPrompts[2], 25, 1.0f);
    r->n = 3;
    r->sampling.seed = 42;
    EXPECT_TRUE(e->submit(r));
    return collect(*r, 3);
  };
  const Result a = run(), b = run();
  ASSERT_EQ(a.error, "");
  EXPECT_EQ(a.text, b.text);
  EXPECT_NE(a.text[0], a.text[1]);
  EXPECT_NE(a.text[1], a.text[2]);
  EXPECT_EQ(a.usage.completion_tokens, 75);
}

TEST_F(EngineTest, PrefixCacheReusesPromptBlocksWithIdenticalOutput) {
  auto e = engine();
  const std::string prompt =
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the park "
      "with her "
      "friends. One day, she saw a big red ball under a tree.";
  auto r1 = request(prompt, 20);
  ASSERT_TRUE(e->submit(r1));
  const Result first = collect(*r1);
  auto r2 = request(prompt, 20);
  ASSERT_TRUE(e->submit(r2));
  const Result second = collect(*r2);
  ASSERT_EQ(first.error, "");
  ASSERT_EQ(second.error, "");
  EXPECT_EQ(first.usage.cached_tokens, 0);
  EXPECT_GE(second.usage.cached_tokens, 16);
  EXPECT_EQ(second.usage.cached_tokens % 16, 0);
  EXPECT_LT(second.usage.cached_tokens, second.usage.prompt_tokens);
  EXPECT_EQ(first.text[0], second.text[0]);
}

TEST_F(EngineTest, CancelledRequestsReleaseTheirBlocks) {
  auto e = engine();
  auto r = request(kPrompts[0], 400);
  ASSERT_TRUE(e->submit(r));
  Event ev;
  ASSERT_TRUE(r->events.pop(ev, 30s));  // generation has started
  r->cancelled = true;
  for (int i = 0; i < 200 && e->stats().kv_blocks_used > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(e->stats().kv_blocks_used, 0);
  EXPECT_EQ(e->stats().running, 0);
}

TEST_F(EngineTest, OversizedRequestsAreRefused) {
  EngineOptions o;
  o.n_ctx = 64;
  auto e = engine(o);
  auto big = request(kPrompts[0], 100);
  ASSERT_TRUE(e->submit(big));
  const Result res = collect(*big);
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.error.find("context"), std::string::npos) << res.error;
}

TEST_F(EngineTest, TheQueueIsBounded) {
  EngineOptions o;
  o.max_running = 1;
  o.max_queue = 2;
  auto e = engine(o);
  std::vector<std::shared_ptr<GenRequest>> rs;
  int refused = 0;
  for (int i = 0; i < 6; ++i) {
    rs.push_back(request(kPrompts[i], 300));
    refused += !e->submit(rs.back());
  }
  // One runs, at most two wait: at least three of six are refused.
  EXPECT_GE(refused, 3);
  for (auto& r : rs) r->cancelled = true;
}

}  // namespace
}  // namespace minima

namespace minima {
namespace {

// Structured outputs in the engine loop. Greedy stories260K continues "Once upon a time" with
// ", there was a little girl named ...": a grammar from the start forces its own text; a lazy one
// (tool_choice auto) leaves the text alone until the trigger " there" appears and then forces the
// rest of its sentence, ending the choice as soon as the grammar is complete.
TEST_F(EngineTest, GrammarFromTheStartAndLazyFromItsTrigger) {
  auto e = engine();
  auto strict = request(kPrompts[0], 40);
  strict->ignore_eos = false;
  strict->grammar = std::make_shared<const grammar::Grammar>(
      grammar::Grammar::parse(R"(root ::= " " ("yes" | "no") "!")"));
  ASSERT_TRUE(e->submit(strict));
  const Result a = collect(*strict);
  ASSERT_EQ(a.error, "");
  EXPECT_TRUE(a.text[0] == " yes!" || a.text[0] == " no!") << a.text[0];
  EXPECT_EQ(a.finish[0], "stop");

  auto lazy = request(kPrompts[0], 40);
  lazy->ignore_eos = false;
  lazy->grammar = std::make_shared<const grammar::Grammar>(
      grammar::Grammar::parse(R"(root ::= " there lived a " ("dragon" | "wizard") ".")"));
  lazy->grammar_trigger = " there";
  ASSERT_TRUE(e->submit(lazy));
  const Result b = collect(*lazy);
  ASSERT_EQ(b.error, "");
  EXPECT_TRUE(b.text[0] == ", there lived a dragon." || b.text[0] == ", there lived a wizard.")
      << b.text[0];
  EXPECT_EQ(b.finish[0], "stop");
  // Free until the trigger: the same text as without a grammar up to it.
  EXPECT_TRUE(alone(kPrompts[0], 40).starts_with(", there was"));
}

}  // namespace
}  // namespace minima
