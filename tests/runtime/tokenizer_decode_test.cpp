// token_to_piece, decode and the streaming decoder.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "runtime/tokenizer/utf8.hpp"
#include "tokenizer_test_util.hpp"

namespace minima::test {
namespace {

using Ids = std::vector<TokenId>;

// Byte-level BPE is lossless on valid UTF-8: decode(encode(s)) == s for every reference string.
TEST(TokenizerDecode, BpeRoundTripsTheReferenceStrings) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  for (const auto& name : bpe_vocabs()) {
    const Tokenizer& tok = reference_tokenizer(name);
    const VocabVectors vec = read_vectors(name);
    for (size_t i = 0; i < vec.inputs.size(); ++i) {
      EXPECT_EQ(tok.decode(tok.encode(vec.inputs[i], false, false), false), vec.inputs[i])
          << name << " string #" << i;
      // With BOS/EOS added and not rendered, the text is the same.
      EXPECT_EQ(tok.decode(tok.encode(vec.inputs[i], true, false), false), vec.inputs[i])
          << name << " string #" << i << " (add_special)";
    }
  }
}

// SPM: the space prefix encode adds is removed again, so the round trip holds too.
TEST(TokenizerDecode, SpmRoundTripsWithTheLeadingSpaceRule) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  for (const char* name : {"llama-spm", "phi-3"}) {
    const Tokenizer& tok = reference_tokenizer(name);
    for (const auto& s : read_vectors(name).inputs) {
      for (const bool add_special : {false, true}) {
        EXPECT_EQ(tok.decode(tok.encode(s, add_special, false), false), s)
            << name << " '" << s << "'";
      }
    }
  }
  const Tokenizer& phi = reference_tokenizer("phi-3");
  const std::string chat = "<s> <|endoftext|>x";
  EXPECT_EQ(phi.decode(phi.encode(chat, false, true), true), chat);
  // A piece keeps its space: only decode of a whole sequence strips what encode inserted.
  const Tokenizer& spm = reference_tokenizer("llama-spm");
  const TokenId hello = *spm.find("\xE2\x96\x81Hello");
  EXPECT_EQ(spm.token_to_piece(hello, false), " Hello");
  EXPECT_EQ(spm.decode(Ids{hello, hello}, false), "Hello Hello");
  EXPECT_EQ(spm.decode(Ids{1, hello, 2, hello}, true), "<s>Hello</s>Hello");
}

TEST(TokenizerDecode, TokenToPiece) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& spm = reference_tokenizer("llama-spm");
  EXPECT_EQ(spm.token_to_piece(13, false), "\n");  // <0x0A>
  EXPECT_EQ(spm.token_to_piece(*spm.find("<0xE4>"), false), "\xE4");
  EXPECT_EQ(spm.token_to_piece(1, false), "");  // CONTROL <s>
  EXPECT_EQ(spm.token_to_piece(1, true), "<s>");
  EXPECT_EQ(spm.token_to_piece(0, false), "");  // UNKNOWN <unk>
  EXPECT_EQ(spm.token_to_piece(0, true), "<unk>");
  EXPECT_THROW((void)spm.token_to_piece(32000, true), Error);

  const Tokenizer& gpt2 = reference_tokenizer("gpt-2");
  EXPECT_EQ(gpt2.token_to_piece(*gpt2.find("\xC4\xA0world"), false), " world");  // Ġworld
  EXPECT_EQ(gpt2.token_to_piece(*gpt2.find("\xC4\x8A"), false), "\n");           // Ċ
  EXPECT_EQ(gpt2.token_to_piece(50256, false), "");
  EXPECT_EQ(gpt2.token_to_piece(50256, true), "<|endoftext|>");

  const Tokenizer& qwen = reference_tokenizer("qwen2");
  const TokenId think = *qwen.find("<think>");
  EXPECT_EQ(qwen.token_to_piece(think, false), "<think>");  // USER_DEFINED: always rendered
  EXPECT_EQ(qwen.token_to_piece(151669, true), "");         // UNUSED
  std::string out = "x";
  qwen.append_piece(think, false, out);
  EXPECT_EQ(out, "x<think>");

  const Tokenizer& bert = reference_tokenizer("bert-bge");
  EXPECT_EQ(bert.token_to_piece(7592, false), " hello");
  // WordPiece is lossy: every word, punctuation included, decodes with its leading space.
  EXPECT_EQ(bert.decode(bert.encode("Hello, world!", true, false), false), "hello , world !");
  EXPECT_EQ(bert.decode(bert.encode("Hello world", true, false), true), "[CLS]hello world[SEP]");
}

// Invalid UTF-8 never throws. SPM keeps the bytes (byte fallback); BPE sees U+FFFD.
TEST(TokenizerDecode, InvalidUtf8Input) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const std::string bad = "ab\xFF\xC3(\xE4\xBD";
  const Tokenizer& spm = reference_tokenizer("llama-spm");
  EXPECT_EQ(spm.decode(spm.encode(bad, true, false), false), bad);
  for (const auto& name : bpe_vocabs()) {
    const Tokenizer& tok = reference_tokenizer(name);
    EXPECT_EQ(tok.decode(tok.encode(bad, false, false), false), utf8::sanitize(bad)) << name;
  }
  const Tokenizer& bert = reference_tokenizer("bert-bge");
  EXPECT_EQ(bert.decode(bert.encode(bad, false, false), false), "ab (");  // U+FFFD dropped
}

// Collects every StreamDecoder output, checking each is complete, valid UTF-8.
std::string stream_all(const Tokenizer& tok, const Ids& ids, bool render_special = false) {
  StreamDecoder dec(tok, render_special);
  std::string all;
  for (const TokenId id : ids) {
    const std::string part = dec.push(id);
    EXPECT_TRUE(utf8::is_valid(part)) << "broken UTF-8 after token " << id;
    all += part;
  }
  const std::string rest = dec.flush();
  EXPECT_TRUE(utf8::is_valid(rest));
  return all + rest;
}

TEST(TokenizerStream, SpmByteFallbackCharacterIsHeldBack) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& spm = reference_tokenizer("llama-spm");
  const TokenId e4 = *spm.find("<0xE4>"), bd = *spm.find("<0xBD>"), a0 = *spm.find("<0xA0>");
  StreamDecoder dec(spm);
  EXPECT_EQ(dec.push(*spm.find("\xE2\x96\x81Hi")), " Hi");
  EXPECT_EQ(dec.push(e4), "");
  EXPECT_EQ(dec.push(bd), "");
  EXPECT_EQ(dec.push(a0), "\xE4\xBD\xA0");  // 你
  EXPECT_EQ(dec.flush(), "");

  // An incomplete character at the end becomes one U+FFFD.
  EXPECT_EQ(dec.push(e4), "");
  EXPECT_EQ(dec.push(bd), "");
  EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(dec.flush(), "");

  // A byte that can never start a character is replaced at once; so is a broken sequence.
  EXPECT_EQ(dec.push(*spm.find("<0xFF>")), "\xEF\xBF\xBD");
  EXPECT_EQ(dec.push(e4), "");
  EXPECT_EQ(dec.push(*spm.find("<0x41>")),
            "\xEF\xBF\xBD"
            "A");

  // reset drops a pending partial character.
  EXPECT_EQ(dec.push(e4), "");
  dec.reset();
  EXPECT_EQ(dec.flush(), "");

  // The appending forms behave the same.
  std::string out;
  dec.push(e4, out);
  dec.push(bd, out);
  EXPECT_EQ(out, "");
  dec.push(a0, out);
  dec.flush(out);
  EXPECT_EQ(out, "\xE4\xBD\xA0");
}

TEST(TokenizerStream, BpeCharacterSplitAcrossTokens) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const Tokenizer& gpt2 = reference_tokenizer("gpt-2");
  const std::string llama = "\xF0\x9F\xA6\x99";  // 🦙: several byte-level tokens in GPT-2
  const Ids ids = gpt2.encode("I like " + llama + "s", false, false);
  ASSERT_GT(ids.size(), 4u);
  EXPECT_EQ(stream_all(gpt2, ids), "I like " + llama + "s");

  for (const auto& name : bpe_vocabs()) {
    const Tokenizer& tok = reference_tokenizer(name);
    for (const auto& s : read_vectors(name).inputs) {
      EXPECT_EQ(stream_all(tok, tok.encode(s, false, false)), s) << name;
    }
  }
  // Control tokens appear only when rendered.
  const Tokenizer& qwen = reference_tokenizer("qwen2");
  const Ids chat = qwen.encode("<|im_start|>hi" + llama + "<|im_end|>", false, true);
  EXPECT_EQ(stream_all(qwen, chat), "hi" + llama);
  EXPECT_EQ(stream_all(qwen, chat, true), "<|im_start|>hi" + llama + "<|im_end|>");
}

}  // namespace
}  // namespace minima::test
