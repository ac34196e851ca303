// The llama.cpp behaviours listed in ../shared/tokenizers/README.md ("llama.cpp behaviours that the
// expected ids encode"), each pinned on the reference vocabularies.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/error.hpp"
#include "model/gguf/gguf.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "tokenizer_test_util.hpp"

namespace minima::test {
namespace {

using Ids = std::vector<TokenId>;

bool contains(const Ids& ids, TokenId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// 1. parse_special=false: CONTROL and UNKNOWN texts are plain text.
TEST(TokenizerSpecial, ControlTextIsPlainWithoutParseSpecial) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& qwen = reference_tokenizer("qwen2");
  const TokenId im_end = *qwen.find("<|im_end|>");
  EXPECT_EQ(qwen.attr(im_end), TokenAttr::Control);
  const Ids plain = qwen.encode("<|im_end|>", false, false);
  EXPECT_GT(plain.size(), 1u);
  EXPECT_FALSE(contains(plain, im_end));
  EXPECT_EQ(qwen.encode("<|im_end|>", false, true), Ids{im_end});

  // Phi-3's [PADnnnnn] tokens are UNKNOWN: matched only with parse_special.
  const Tokenizer& phi = reference_tokenizer("phi-3");
  EXPECT_EQ(phi.attr(32011), TokenAttr::Unknown);
  EXPECT_FALSE(contains(phi.encode("[PAD32011]", false, false), 32011));
  EXPECT_EQ(phi.encode("[PAD32011]", false, true), Ids{32011});
}

// 1. USER_DEFINED tokens are matched whatever parse_special says.
TEST(TokenizerSpecial, UserDefinedTokensAlwaysMatch) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& qwen = reference_tokenizer("qwen2");
  const TokenId think = *qwen.find("<think>"), end_think = *qwen.find("</think>");
  const TokenId tool_call = *qwen.find("<tool_call>");
  EXPECT_EQ(qwen.attr(think), TokenAttr::UserDefined);
  for (const bool parse : {false, true}) {
    const Ids ids = qwen.encode("<think>x</think><tool_call>", false, parse);
    ASSERT_EQ(ids.size(), 4u) << ids_to_string(ids);
    EXPECT_EQ(ids[0], think);
    EXPECT_EQ(ids[2], end_think);
    EXPECT_EQ(ids[3], tool_call);
  }

  // deepseek-coder stores some single characters as USER_DEFINED tokens.
  const Tokenizer& ds = reference_tokenizer("deepseek-coder");
  ASSERT_EQ(ds.token_text(32000), "õ");
  EXPECT_EQ(ds.attr(32000), TokenAttr::UserDefined);
  EXPECT_EQ(ds.encode("õ", false, false), Ids{32000});

  // mpt's whitespace-run tokens are USER_DEFINED raw spaces; the longest run wins.
  const Tokenizer& mpt = reference_tokenizer("mpt");
  const TokenId four = *mpt.find("    ");
  EXPECT_EQ(mpt.attr(four), TokenAttr::UserDefined);
  const Ids ids = mpt.encode("x    y", false, false);
  EXPECT_TRUE(contains(ids, four)) << ids_to_string(ids);
}

// 1. parse_special=true: CONTROL strings are matched first, inside running text too.
TEST(TokenizerSpecial, ParseSpecialMatchesControlTokensInText) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& qwen = reference_tokenizer("qwen2");
  const TokenId start = *qwen.find("<|im_start|>"), end = *qwen.find("<|im_end|>");
  const Ids ids = qwen.encode("<|im_start|>user\nHi<|im_end|>\n", false, true);
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids.front(), start);
  EXPECT_TRUE(contains(ids, end));
  const Ids user = qwen.encode("user\nHi", false, false);
  EXPECT_TRUE(std::equal(user.begin(), user.end(), ids.begin() + 1));

  const Tokenizer& llama3 = reference_tokenizer("llama-bpe");
  const Ids l3 = llama3.encode("<|start_header_id|>user<|end_header_id|>", true, true);
  EXPECT_EQ(l3.front(), 128000);
  EXPECT_EQ(l3[1], *llama3.find("<|start_header_id|>"));
  EXPECT_EQ(l3.back(), *llama3.find("<|end_header_id|>"));
}

// 2. add_special: BOS/EOS only when the vocabulary asks for them.
TEST(TokenizerSpecial, AddSpecialFollowsTheVocabularyFlags) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& spm = reference_tokenizer("llama-spm");
  EXPECT_TRUE(spm.add_bos());
  EXPECT_FALSE(spm.add_eos());
  const Ids with = spm.encode("Hello", true, false), without = spm.encode("Hello", false, false);
  ASSERT_EQ(with.size(), without.size() + 1);
  EXPECT_EQ(with.front(), spm.bos());
  EXPECT_EQ(spm.bos(), 1);

  const Tokenizer& llama3 = reference_tokenizer("llama-bpe");
  EXPECT_TRUE(llama3.add_bos());
  EXPECT_EQ(llama3.encode("Hello", true, false).front(), 128000);

  const Tokenizer& qwen = reference_tokenizer("qwen2");  // add_bos_token = false
  EXPECT_FALSE(qwen.add_bos());
  EXPECT_EQ(qwen.encode("Hello", true, false), qwen.encode("Hello", false, false));
  EXPECT_EQ(qwen.bos(), 151643);
  EXPECT_EQ(qwen.eos(), 151645);

  // No add_bos key: llama.cpp's default is false for gpt2 vocabularies outside the llama3 family.
  for (const char* name : {"falcon", "gpt-2", "mpt", "starcoder", "refact"}) {
    const Tokenizer& t = reference_tokenizer(name);
    EXPECT_FALSE(t.add_bos()) << name;
    EXPECT_EQ(t.encode("Hello", true, false), t.encode("Hello", false, false)) << name;
  }
  EXPECT_EQ(reference_tokenizer("falcon").bos(), 11);
  EXPECT_EQ(reference_tokenizer("falcon").eos(), 11);
}

// 2. WPM always frames the input with [CLS] ... [SEP] when add_special.
TEST(TokenizerSpecial, WordPieceAlwaysAddsClsAndSep) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& bert = reference_tokenizer("bert-bge");
  EXPECT_EQ(bert.encode("Hello world", true, false), (Ids{101, 7592, 2088, 102}));
  EXPECT_EQ(bert.encode("Hello world", false, false), (Ids{7592, 2088}));
  EXPECT_EQ(bert.encode("", true, false), (Ids{101, 102}));
}

// 3. Load-time overrides: exactly the tokens the README lists change type, and they become CONTROL.
TEST(TokenizerSpecial, LoadTimeTypeOverridesMatchLlamaCpp) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const std::map<std::string, std::vector<TokenId>> expected = {
      {"qwen2", {128247}}, {"phi-3", {2}}, {"deepseek-coder", {32015, 32016, 32017}}};
  for (const auto& name : all_vocabs()) {
    const GgufFile f = GgufFile::open(vocab_path(name));
    const GgufArray* types = f.get_array("tokenizer.ggml.token_type");
    ASSERT_NE(types, nullptr) << name;
    const Tokenizer& tok = reference_tokenizer(name);
    static constexpr TokenAttr kByType[] = {
        TokenAttr::Normal,      TokenAttr::Normal, TokenAttr::Unknown, TokenAttr::Control,
        TokenAttr::UserDefined, TokenAttr::Unused, TokenAttr::Byte};
    std::vector<TokenId> changed;
    for (TokenId id = 0; id < tok.n_vocab(); ++id) {
      if (tok.attr(id) != kByType[types->ints[id]]) {
        changed.push_back(id);
        EXPECT_EQ(tok.attr(id), TokenAttr::Control) << name << " token " << id;
      }
    }
    const auto it = expected.find(name);
    EXPECT_EQ(changed, it == expected.end() ? std::vector<TokenId>{} : it->second) << name;
  }
}

// 3. Qwen's "</s>" is an ordinary BPE token in the file but CONTROL after loading.
TEST(TokenizerSpecial, QwenEndOfSequenceTextIsControl) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& qwen = reference_tokenizer("qwen2");
  EXPECT_EQ(qwen.find("</s>"), 128247);
  EXPECT_EQ(qwen.encode("a</s>b", false, true), (Ids{64, 128247, 65}));
  EXPECT_FALSE(contains(qwen.encode("a</s>b", false, false), 128247));
}

// 4. SPM: a space prefix on the first text fragment and on every text after a special token.
TEST(TokenizerSpecial, SpmSpacePrefixAfterSpecialTokens) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& phi = reference_tokenizer("phi-3");
  EXPECT_EQ(phi.encode("<s> <|endoftext|>", false, true), (Ids{1, 259, 32000}));
  EXPECT_EQ(phi.token_text(259), "\xE2\x96\x81\xE2\x96\x81");

  const Tokenizer& spm = reference_tokenizer("llama-spm");
  const TokenId hello = *spm.find("\xE2\x96\x81Hello");
  EXPECT_EQ(spm.encode("Hello", false, false), Ids{hello});
  EXPECT_EQ(spm.encode("<s>Hello", false, true), (Ids{1, hello}));
  EXPECT_EQ(spm.encode("Hello</s>Hello", false, true), (Ids{hello, 2, hello}));
}

// stories260K (SPM, 512 tokens): the prompt of the reference generation run.
TEST(TokenizerSpecial, Stories260KPrompt) {
  MINIMA_REQUIRE_SHARED("models/stories260K.gguf");
  const GgufFile f = GgufFile::open(shared_dir() / "models" / "stories260K.gguf");
  const Tokenizer tok = Tokenizer::from_gguf(f);
  EXPECT_EQ(tok.n_vocab(), 512);
  EXPECT_EQ(tok.model_name(), "llama");
  EXPECT_EQ(tok.encode("Once upon a time, there was a little girl named Lily.", true, false),
            (Ids{1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426}));
  EXPECT_EQ(tok.encode("Once upon a time", true, false), (Ids{1, 403, 407, 261, 378}));
}

// 5. No NFC normalisation for Qwen: composed and decomposed accents tokenize differently.
TEST(TokenizerSpecial, QwenDoesNotNormalize) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& qwen = reference_tokenizer("qwen2");
  const std::string composed = "caf\xC3\xA9", decomposed = "cafe\xCC\x81";
  const Ids a = qwen.encode(composed, false, false), b = qwen.encode(decomposed, false, false);
  EXPECT_NE(a, b);
  EXPECT_EQ(qwen.decode(b, false), decomposed);
}

// End of generation, as llama.cpp decides it from ids and token texts.
TEST(TokenizerSpecial, EndOfGenerationTokens) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& qwen = reference_tokenizer("qwen2");
  EXPECT_EQ(qwen.eot(), *qwen.find("<|im_end|>"));
  for (const char* t :
       {"<|im_end|>", "<|endoftext|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"}) {
    EXPECT_TRUE(qwen.is_eog(*qwen.find(t))) << t;
  }
  EXPECT_FALSE(qwen.is_eog(*qwen.find("<|im_start|>")));
  EXPECT_FALSE(qwen.is_eog(*qwen.find("<think>")));
  EXPECT_FALSE(qwen.is_eog(-1));
  EXPECT_FALSE(qwen.is_eog(qwen.n_vocab()));

  const Tokenizer& llama3 = reference_tokenizer("llama-bpe");
  EXPECT_EQ(llama3.eot(), *llama3.find("<|eot_id|>"));
  EXPECT_TRUE(llama3.is_eog(128001));  // eos <|end_of_text|>
  EXPECT_TRUE(llama3.is_eog(*llama3.find("<|eot_id|>")));
  EXPECT_FALSE(llama3.is_eog(128000));

  const Tokenizer& phi = reference_tokenizer("phi-3");
  EXPECT_TRUE(phi.is_eog(*phi.find("<|end|>")));
  EXPECT_TRUE(phi.is_eog(32000));
  EXPECT_FALSE(phi.is_eog(*phi.find("<|user|>")));

  const Tokenizer& spm = reference_tokenizer("llama-spm");
  EXPECT_EQ(spm.eot(), -1);
  EXPECT_TRUE(spm.is_eog(2));
  EXPECT_EQ(reference_tokenizer("bert-bge").eos(), -1);
}

TEST(TokenizerSpecial, NamesAndLookups) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& qwen = reference_tokenizer("qwen2");
  EXPECT_EQ(qwen.model_name(), "gpt2");
  EXPECT_EQ(qwen.pre_name(), "qwen2");
  EXPECT_EQ(qwen.n_vocab(), 151936);
  EXPECT_EQ(qwen.token_text(151645), "<|im_end|>");
  EXPECT_EQ(qwen.attr(151669), TokenAttr::Unused);
  EXPECT_EQ(qwen.find("no such token text"), std::nullopt);
  EXPECT_THROW((void)qwen.token_text(151936), Error);
  EXPECT_THROW((void)qwen.attr(-1), Error);
  EXPECT_EQ(reference_tokenizer("bert-bge").model_name(), "bert");
  EXPECT_EQ(reference_tokenizer("llama-spm").model_name(), "llama");
  EXPECT_EQ(reference_tokenizer("llama-spm").attr(3), TokenAttr::Byte);
}

}  // namespace
}  // namespace minima::test
