// Large and pathological inputs: long texts round-trip, long runs stay fast, and one Tokenizer
// serves several threads at once.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "runtime/tokenizer/tokenizer.hpp"
#include "runtime/tokenizer/utf8.hpp"
#include "tokenizer_test_util.hpp"

namespace minima::test {
namespace {

std::string repeated_reference_text(size_t min_bytes) {
  const std::string unit = slurp(vocab_path("qwen2").string() + ".inp");
  std::string text;
  while (text.size() < min_bytes) text += unit;
  return text;
}

TEST(TokenizerStress, LargeTextRoundTrips) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const std::string text = repeated_reference_text(300 * 1024);
  for (const char* name : {"qwen2", "llama-spm"}) {
    const Tokenizer& tok = reference_tokenizer(name);
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = tok.encode(text, false, false);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %zu bytes -> %zu tokens in %.3f s (%.2f M tokens/s)\n", name, text.size(),
                ids.size(), s, ids.size() / s / 1e6);
    EXPECT_EQ(tok.decode(ids, false), text) << name;
  }
}

TEST(TokenizerStress, LongRunsWithoutBreaks) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const std::string letters(200 * 1024, 'a'), spaces(200 * 1024, ' ');
  for (const char* name : {"gpt-2", "qwen2", "llama-bpe", "llama-spm", "bert-bge"}) {
    const Tokenizer& tok = reference_tokenizer(name);
    const auto a = tok.encode(letters, false, false);
    const auto sp = tok.encode(spaces + "x", false, false);
    if (std::string_view(name) == "bert-bge") {
      EXPECT_FALSE(a.empty());
      EXPECT_EQ(sp.size(), 1u);
    } else {
      EXPECT_EQ(tok.decode(a, false), letters) << name;
      EXPECT_EQ(tok.decode(sp, false), spaces + "x") << name;
    }
  }
}

TEST(TokenizerStress, ConcurrentEncodeMatchesSerial) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const std::string text = repeated_reference_text(64 * 1024);
  for (const char* name : {"qwen2", "llama-spm", "bert-bge"}) {
    const Tokenizer& tok = reference_tokenizer(name);
    const auto want = tok.encode(text, true, true);
    std::vector<TokenId> got[2];
    std::thread a([&] { got[0] = tok.encode(text, true, true); });
    std::thread b([&] { got[1] = tok.encode(text, true, true); });
    a.join();
    b.join();
    EXPECT_EQ(got[0], want) << name;
    EXPECT_EQ(got[1], want) << name;
  }
}

// Random bytes, biased towards UTF-8 lead/continuation bytes, spaces and special-token texts:
// encoding never throws, SPM keeps every byte, BPE keeps every valid character, and streaming
// the ids never yields broken UTF-8.
TEST(TokenizerStress, RandomBytes) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  std::mt19937 rng(1234);
  const std::vector<std::string> atoms = {
      " ",        "\n",   "a",    "Z",   "7",    "\xC3",       "\xA9",  "\xE4\xBD\xA0",
      "\xF0",     "\x9F", "\xFF", "<s>", "</s>", "<|im_end|>", "[CLS]", "<think>",
      "\xCC\x81", "'s",   "\t"};
  for (const auto& name : all_vocabs()) {
    const Tokenizer& tok = reference_tokenizer(name);
    for (int n = 0; n < 200; ++n) {
      std::string s;
      const int len = static_cast<int>(rng() % 24);
      for (int k = 0; k < len; ++k) s += atoms[rng() % atoms.size()];
      for (const bool parse : {false, true}) {
        std::vector<TokenId> ids;
        ASSERT_NO_THROW(ids = tok.encode(s, true, parse)) << name;
        for (const TokenId id : ids) ASSERT_TRUE(id >= 0 && id < tok.n_vocab()) << name;
        StreamDecoder dec(tok, true);
        for (const TokenId id : ids) ASSERT_TRUE(utf8::is_valid(dec.push(id))) << name;
        ASSERT_TRUE(utf8::is_valid(dec.flush())) << name;
        // (SPM: an invalid lead byte swallows the next bytes into its symbol, so a space right
        // after one comes back as the raw U+2581 bytes, as in llama.cpp.)
        if (!parse && name == "llama-spm" && utf8::is_valid(s)) {
          EXPECT_EQ(tok.decode(ids, false), s);
        }
        if (!parse && name == "qwen2") {
          EXPECT_EQ(tok.decode(ids, false), utf8::sanitize(s));
        }
      }
    }
  }
}

}  // namespace
}  // namespace minima::test
