// Loading synthetic vocabularies written with GgufWriter: every malformed piece of metadata gives a
// minima::Error naming the file and the key; small well-formed vocabularies load with llama.cpp's
// defaults.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <optional>

#include "core/error.hpp"
#include "model/gguf/gguf.hpp"
#include "model/gguf/writer.hpp"
#include "runtime/tokenizer/byte_level.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "support/test_support.hpp"

namespace minima::test {
namespace {

using Ids = std::vector<TokenId>;

// A small byte-level BPE vocabulary: the 256 byte characters, then merged words.
struct VocabSpec {
  std::optional<std::string> model = "gpt2";
  std::optional<std::string> pre = "gpt-2";
  std::optional<std::vector<std::string>> tokens;
  std::optional<std::vector<int64_t>> types;
  std::optional<std::vector<std::string>> merges;
  std::function<void(GgufWriter&)> extra;

  VocabSpec() {
    const tok::ByteLevel bl;
    std::vector<std::string> t;
    for (int b = 0; b < 256; ++b) t.emplace_back(bl.encode(static_cast<unsigned char>(b)));
    for (const char* w : {"he", "ll", "hell", "hello", "\xC4\xA0hello", "<|endoftext|>"})
      t.push_back(w);
    tokens = t;
    types = std::vector<int64_t>(t.size(), 1);
    types->back() = 3;  // <|endoftext|> is CONTROL
    merges = std::vector<std::string>{"h e", "l l", "he ll", "hell o", "\xC4\xA0 hello"};
  }
};

class SyntheticVocab : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_dir("tokenizer"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const VocabSpec& s) {
    GgufWriter w;
    w.set_string("general.architecture", "llama");
    if (s.model) w.set_string("tokenizer.ggml.model", *s.model);
    if (s.pre) w.set_string("tokenizer.ggml.pre", *s.pre);
    if (s.tokens) w.set_array("tokenizer.ggml.tokens", GgufWriter::strings(*s.tokens));
    if (s.types) w.set_array("tokenizer.ggml.token_type", GgufWriter::ints(*s.types));
    if (s.merges) w.set_array("tokenizer.ggml.merges", GgufWriter::strings(*s.merges));
    if (s.extra) s.extra(w);
    const auto path = dir_ / "vocab.gguf";
    w.write(path);
    return path;
  }

  Tokenizer load(const VocabSpec& s) {
    const GgufFile f = GgufFile::open(write(s));
    return Tokenizer::from_gguf(f);
  }

  // Loading must fail with an Error whose message contains every one of `parts`.
  void expect_error(const VocabSpec& s, std::initializer_list<std::string_view> parts) {
    const GgufFile f = GgufFile::open(write(s));
    try {
      (void)Tokenizer::from_gguf(f);
      ADD_FAILURE() << "loading succeeded; expected an error mentioning " << *parts.begin();
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("vocab.gguf"), std::string::npos) << "no file name in: " << msg;
      for (const auto p : parts)
        EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    }
  }

  std::filesystem::path dir_;
};

TEST_F(SyntheticVocab, WellFormedBpeLoadsAndEncodes) {
  const Tokenizer tok = load(VocabSpec{});
  EXPECT_EQ(tok.model_name(), "gpt2");
  EXPECT_EQ(tok.pre_name(), "gpt-2");
  const TokenId hello = *tok.find("hello"), sp_hello = *tok.find("\xC4\xA0hello");
  EXPECT_EQ(tok.encode("hello hello", false, false), (Ids{hello, sp_hello}));
  EXPECT_EQ(tok.decode(tok.encode("hello hellx!", false, false), false), "hello hellx!");
  // No bos/eos keys: llama.cpp's gpt2 default of 11 (here the byte-level character for 0x0B).
  EXPECT_EQ(tok.bos(), 11);
  EXPECT_EQ(tok.eos(), 11);
  EXPECT_FALSE(tok.add_bos());
  EXPECT_TRUE(tok.is_eog(*tok.find("<|endoftext|>")));
}

TEST_F(SyntheticVocab, Llama3FamilyDefaultsToAddingBos) {
  VocabSpec s;
  s.pre = "llama3";
  const Tokenizer tok = load(s);
  EXPECT_TRUE(tok.add_bos());
  EXPECT_EQ(tok.encode("hello", true, false), (Ids{11, *tok.find("hello")}));
  s.pre = "chatglm-bpe";
  EXPECT_EQ(load(s).bos(), -1);
}

TEST_F(SyntheticVocab, MissingPreMeansDefault) {
  VocabSpec s;
  s.pre.reset();
  const Tokenizer tok = load(s);
  EXPECT_EQ(tok.pre_name(), "default");
  EXPECT_EQ(tok.decode(tok.encode("hello, 12345 world", false, false), false),
            "hello, 12345 world");
}

TEST_F(SyntheticVocab, Gpt4oPreTokenizerLoads) {
  VocabSpec s;
  s.pre = "gpt-4o";
  const Tokenizer tok = load(s);
  EXPECT_EQ(tok.pre_name(), "gpt-4o");
  // The o200k regex puts "hello" and " hello" in separate words, as GPT-2's does.
  EXPECT_EQ(tok.encode("hello hello", false, false),
            (Ids{*tok.find("hello"), *tok.find("\xC4\xA0hello")}));
}

TEST_F(SyntheticVocab, UnknownModel) {
  VocabSpec s;
  s.model = "sentencepiece";
  expect_error(s, {"tokenizer.ggml.model", "sentencepiece", "llama, gpt2, bert, none"});
}

TEST_F(SyntheticVocab, MissingModel) {
  VocabSpec s;
  s.model.reset();
  expect_error(s, {"tokenizer.ggml.model", "missing"});
}

TEST_F(SyntheticVocab, UnknownPre) {
  VocabSpec s;
  s.pre = "klingon";
  expect_error(s,
               {"tokenizer.ggml.pre", "klingon", "llama-bpe", "qwen2", "gpt-4o", "deepseek-coder"});
}

TEST_F(SyntheticVocab, MissingTokens) {
  VocabSpec s;
  s.tokens.reset();
  expect_error(s, {"tokenizer.ggml.tokens", "missing"});
}

TEST_F(SyntheticVocab, TokensNotStrings) {
  VocabSpec s;
  s.tokens.reset();
  s.extra = [](GgufWriter& w) { w.set_array("tokenizer.ggml.tokens", GgufWriter::ints({1, 2})); };
  expect_error(s, {"tokenizer.ggml.tokens", "strings"});
}

TEST_F(SyntheticVocab, EmptyTokens) {
  VocabSpec s;
  s.tokens = std::vector<std::string>{};
  s.types.reset();
  s.merges = std::vector<std::string>{};
  expect_error(s, {"tokenizer.ggml.tokens", "empty"});
}

TEST_F(SyntheticVocab, DuplicateToken) {
  VocabSpec s;
  s.tokens->push_back("hello");
  s.types->push_back(1);
  expect_error(s, {"tokenizer.ggml.tokens", "repeats", "hello"});
}

TEST_F(SyntheticVocab, TokenTypeWrongLength) {
  VocabSpec s;
  s.types->pop_back();
  expect_error(s, {"tokenizer.ggml.token_type", "expected 262"});
}

TEST_F(SyntheticVocab, TokenTypeInvalidValue) {
  VocabSpec s;
  (*s.types)[7] = 9;
  expect_error(s, {"tokenizer.ggml.token_type", "[7]", "invalid token type 9"});
}

TEST_F(SyntheticVocab, ScoresWrongLength) {
  VocabSpec s;
  s.extra = [](GgufWriter& w) {
    w.set_array("tokenizer.ggml.scores", GgufWriter::floats({0.0, 1.0}));
  };
  expect_error(s, {"tokenizer.ggml.scores", "expected 262"});
}

TEST_F(SyntheticVocab, MissingMerges) {
  VocabSpec s;
  s.merges.reset();
  expect_error(s, {"tokenizer.ggml.merges", "missing"});
}

TEST_F(SyntheticVocab, MergeNamingUnknownToken) {
  VocabSpec s;
  s.merges->push_back("he xyz");
  expect_error(s, {"tokenizer.ggml.merges", "[5]", "xyz"});
}

TEST_F(SyntheticVocab, MergeWhoseResultIsNotAToken) {
  VocabSpec s;
  s.merges->push_back("l o");
  expect_error(s, {"tokenizer.ggml.merges", "'l o'", "lo"});
}

TEST_F(SyntheticVocab, MergeWithoutSeparator) {
  VocabSpec s;
  s.merges->push_back("hello");
  expect_error(s, {"tokenizer.ggml.merges", "not \"left right\""});
}

TEST_F(SyntheticVocab, WrongKeyTypes) {
  VocabSpec s;
  s.model.reset();
  s.extra = [](GgufWriter& w) { w.set_u32("tokenizer.ggml.model", 3); };
  expect_error(s, {"tokenizer.ggml.model"});
  s.model = "gpt2";
  s.extra = [](GgufWriter& w) { w.set_string("tokenizer.ggml.add_bos_token", "yes"); };
  expect_error(s, {"tokenizer.ggml.add_bos_token"});
}

TEST_F(SyntheticVocab, AddBosWithoutBosToken) {
  VocabSpec s;
  s.model = "llama";
  s.tokens = std::vector<std::string>{"<unk>"};  // SPM's default BOS id 1 does not exist
  s.types = std::vector<int64_t>{2};
  s.merges.reset();
  // SPM defaults to adding BOS; with no BOS token the default is dropped...
  EXPECT_FALSE(load(s).add_bos());
  // ...but an explicit request is an error.
  s.extra = [](GgufWriter& w) { w.set_bool("tokenizer.ggml.add_bos_token", true); };
  expect_error(s, {"tokenizer.ggml.add_bos_token", "tokenizer.ggml.bos_token_id"});
}

TEST_F(SyntheticVocab, OutOfRangeSpecialIdIsIgnored) {
  VocabSpec s;
  s.extra = [](GgufWriter& w) {
    w.set_u32("tokenizer.ggml.bos_token_id", 4294967295u);
    w.set_u32("tokenizer.ggml.eos_token_id", 261);
  };
  const Tokenizer tok = load(s);
  EXPECT_EQ(tok.bos(), 11);  // the default stays, as in llama.cpp
  EXPECT_EQ(tok.eos(), 261);
}

TEST_F(SyntheticVocab, NoVocabulary) {
  VocabSpec s;
  s.model = "none";
  s.tokens.reset();
  s.types.reset();
  s.merges.reset();
  s.extra = [](GgufWriter& w) { w.set_u32("llama.vocab_size", 1000); };
  const Tokenizer tok = load(s);
  EXPECT_EQ(tok.model_name(), "none");
  EXPECT_EQ(tok.n_vocab(), 1000);
  EXPECT_EQ(tok.bos(), -1);
  EXPECT_THROW((void)tok.encode("hi", true, false), Error);
}

TEST_F(SyntheticVocab, SpmWithoutByteTokensFallsBackToUnknown) {
  VocabSpec s;
  s.model = "llama";
  s.pre.reset();
  s.tokens = std::vector<std::string>{"<unk>",
                                      "<s>",
                                      "</s>",
                                      "\xE2\x96\x81",
                                      "a",
                                      "\xE2\x96\x81"
                                      "a"};
  s.types = std::vector<int64_t>{2, 3, 3, 1, 1, 1};
  s.merges.reset();
  s.extra = [](GgufWriter& w) {
    w.set_array("tokenizer.ggml.scores", GgufWriter::floats({0, 0, 0, -1, -2, -0.5}));
  };
  const Tokenizer tok = load(s);
  EXPECT_EQ(tok.encode("a a", true, false), (Ids{1, 5, 5}));
  EXPECT_EQ(tok.encode("ab", false, false), (Ids{5, 0}));
  EXPECT_EQ(tok.decode(Ids{1, 5, 5}, false), "a a");
}

// A token with a space mark inside ("a▁b") must merge across the start of a word, so SPM cannot
// merge word by word for this vocabulary.
TEST_F(SyntheticVocab, SpmTokenSpanningWords) {
  VocabSpec s;
  s.model = "llama";
  s.pre.reset();
  s.tokens = std::vector<std::string>{"<unk>",
                                      "<s>",
                                      "</s>",
                                      "\xE2\x96\x81",
                                      "a",
                                      "b",
                                      "\xE2\x96\x81"
                                      "b",
                                      "a\xE2\x96\x81"
                                      "b"};
  s.types = std::vector<int64_t>{2, 3, 3, 1, 1, 1, 1, 1};
  s.merges.reset();
  s.extra = [](GgufWriter& w) {
    w.set_array("tokenizer.ggml.scores", GgufWriter::floats({0, 0, 0, -5, -5, -5, -1, 0}));
  };
  const Tokenizer tok = load(s);
  EXPECT_EQ(tok.encode("a b", false, false), (Ids{3, 7}));
  EXPECT_EQ(tok.decode(Ids{3, 7}, false), "a b");
}

}  // namespace
}  // namespace minima::test
