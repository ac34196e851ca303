// Byte-level BPE training: the merges match a naive recount-everything reference, the written
// GGUF loads as a tokenizer that round-trips any text, specials stay whole, the result is
// deterministic, and bad input fails with a message naming the file and line.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "model/gguf/gguf.hpp"
#include "runtime/chat/template.hpp"
#include "runtime/tokenizer/byte_level.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "support/test_support.hpp"
#include "train/bpe_trainer.hpp"
#include "train/corpus.hpp"
#include "train/rng.hpp"
#include "train/train_test_util.hpp"

#include <nlohmann/json.hpp>

namespace minima {
namespace {

using test::read_bytes;
using test::write_text;

// Textbook BPE: recount every pair of every word at each step. Slow, obviously right; the
// trainer must produce exactly its merges (same tie rule: count, then left id, then right id).
std::vector<std::string> reference_merges(const train::WordCounts& words, int32_t n_tokens,
                                          uint64_t min_frequency) {
  const tok::ByteLevel bl;
  std::vector<std::string> text;
  std::map<std::string, int32_t> id_of;
  for (int b = 0; b < 256; ++b) {
    text.emplace_back(bl.encode(static_cast<unsigned char>(b)));
    id_of[text.back()] = b;
  }
  std::vector<std::vector<int32_t>> syms;
  for (const auto& [w, n] : words) syms.emplace_back(w.begin(), w.end());
  for (auto& s : syms) {
    for (auto& x : s) x = static_cast<unsigned char>(x);
  }
  std::vector<std::string> merges;
  std::vector<std::pair<int32_t, int32_t>> done;
  while (static_cast<int32_t>(text.size()) < n_tokens) {
    std::map<std::pair<int32_t, int32_t>, uint64_t> counts;
    for (size_t w = 0; w < syms.size(); ++w) {
      for (size_t i = 0; i + 1 < syms[w].size(); ++i) {
        counts[{syms[w][i], syms[w][i + 1]}] += words[w].second;
      }
    }
    std::pair<int32_t, int32_t> best{-1, -1};
    uint64_t best_n = 0;
    for (const auto& [p, n] : counts) {  // map order = (left, right) ascending: first max wins
      if (n > best_n) best = p, best_n = n;
    }
    if (best_n == 0 || best_n < min_frequency) break;
    const std::string joined = text[best.first] + text[best.second];
    int32_t c;
    if (const auto it = id_of.find(joined); it != id_of.end()) {
      c = it->second;
    } else {
      c = static_cast<int32_t>(text.size());
      text.push_back(joined);
      id_of[joined] = c;
    }
    if (std::find(done.begin(), done.end(), best) == done.end()) {
      done.push_back(best);
      merges.push_back(text[best.first] + " " + text[best.second]);
    }
    for (auto& s : syms) {
      std::vector<int32_t> out;
      for (size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && s[i] == best.first && s[i + 1] == best.second) {
          out.push_back(c);
          i += 2;
        } else {
          out.push_back(s[i++]);
        }
      }
      s = std::move(out);
    }
  }
  return merges;
}

TEST(BpeTrainer, MatchesNaiveReferenceOnRandomWords) {
  // Few letters and long runs: many ties, overlapping pairs ("aaaa") and texts reached by two
  // different merges ("ab"+"c" and "a"+"bc").
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    std::map<std::string, uint64_t> m;
    for (uint64_t i = 0; i < 300; ++i) {
      std::string w;
      const uint64_t len = 1 + train::below(9, seed, 1, i);
      for (uint64_t k = 0; k < len; ++k) w += char('a' + train::below(3, seed, 2, i * 16 + k));
      m[w] += 1 + train::below(5, seed, 3, i);
    }
    const train::WordCounts words(m.begin(), m.end());
    train::BpeTrainOptions opt;
    opt.vocab_size = 256 + 60 + 3;
    opt.min_frequency = 2;
    const train::BpeVocab v = train::train_bpe(words, opt);
    EXPECT_EQ(v.merges, reference_merges(words, 256 + 60, 2)) << "seed " << seed;
  }
}

TEST(BpeTrainer, TiesGoToTheSmallerIdsAndMinFrequencyStops) {
  train::BpeTrainOptions opt;
  opt.vocab_size = 300;
  opt.min_frequency = 3;
  const train::BpeVocab v = train::train_bpe({{"cd", 5}, {"ab", 5}, {"xy", 2}}, opt);
  ASSERT_EQ(v.merges.size(), 2u);
  EXPECT_EQ(v.merges[0], "a b");
  EXPECT_EQ(v.merges[1], "c d");
  EXPECT_EQ(v.size(), 256 + 2 + 3);  // "x y" (2 < 3) is never merged
}

TEST(BpeTrainer, SpecialTextsAreCutOutBeforeCounting) {
  train::WordCounter c;
  c.add_text("hi<|im_end|>hi<|endoftext|><|im_start|>");
  const train::WordCounts w = c.take_sorted();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].first, "hi");
  EXPECT_EQ(w[0].second, 2u);
}

class BpeTrainerFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir("bpe");
    write_text(dir_ / "a.jsonl", test::sample_jsonl(200));
    std::string plain;
    for (int i = 0; i < 50; ++i) plain += test::sample_text(i + 7);
    write_text(dir_ / "b.txt", plain + "<|im_start|>user\nhello<|im_end|>\n");
    files_ = {dir_ / "a.jsonl", dir_ / "b.txt"};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::vector<std::filesystem::path> files_;
};

TEST_F(BpeTrainerFiles, WritesAVocabularyMinimaLoads) {
  const auto path = dir_ / "tok.gguf";
  const train::BpeVocab v = test::train_to_file(files_, 400, path);
  const GgufFile f = GgufFile::open(path);
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "qwen2");
  EXPECT_EQ(f.get_string("general.name"), "test-bpe");
  EXPECT_EQ(f.get_bool("tokenizer.ggml.add_bos_token"), false);
  const Tokenizer tok = Tokenizer::from_gguf(f);
  ASSERT_EQ(tok.n_vocab(), 400);
  EXPECT_EQ(tok.model_name(), "gpt2");
  EXPECT_EQ(tok.token_text(0), "\xC4\x80");  // byte 0 in the GPT-2 byte-level mapping
  EXPECT_EQ(tok.token_text('A'), "A");
  EXPECT_EQ(tok.find("<|endoftext|>"), 397);
  EXPECT_EQ(tok.find("<|im_start|>"), 398);
  EXPECT_EQ(tok.find("<|im_end|>"), 399);
  EXPECT_EQ(tok.bos(), 397);
  EXPECT_EQ(tok.eos(), 399);
  EXPECT_FALSE(tok.add_bos());
  for (TokenId id = 397; id < 400; ++id) EXPECT_EQ(tok.attr(id), TokenAttr::Control);
  EXPECT_EQ(tok.attr(300), TokenAttr::Normal);

  // The exporter copies the vocabulary through read_bpe_vocab.
  const train::BpeVocab back = train::read_bpe_vocab(f);
  EXPECT_EQ(back.tokens, v.tokens);
  EXPECT_EQ(back.token_types, v.token_types);
  EXPECT_EQ(back.merges, v.merges);
  EXPECT_EQ(back.bos_id, v.bos_id);
  EXPECT_EQ(back.eos_id, v.eos_id);
  EXPECT_EQ(back.pad_id, v.pad_id);

  const ChatTemplate t = ChatTemplate::parse(*f.get_string("tokenizer.chat_template"));
  const nlohmann::ordered_json ctx = {
      {"messages",
       {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi"}}}},
      {"add_generation_prompt", true}};
  EXPECT_EQ(t.render(ctx),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST_F(BpeTrainerFiles, RoundTripsAnyText) {
  const auto path = dir_ / "tok.gguf";
  test::train_to_file(files_, 500, path);
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(path));
  std::vector<std::string> texts = {
      "",
      "The quick brown fox",
      "  leading spaces, trailing  \n\n\ttabs\r\n",
      "今天天气很好，我们去公园散步。没见过的字：龘靐齉",
      "emoji 🎉🚀👩‍👩‍👧 and naïve café ÆØÅ Ελληνικά русский "
      "العربية",
      "digits 1234567890 and symbols ~!@#$%^&*()_+{}|:\"<>?",
      "<|im_start|>user\nhello<|im_end|>\n<|endoftext|>",
      "almost <|im_end| special <|endoftext",
  };
  // Random code points from every plane's assigned ranges.
  for (uint64_t i = 0; i < 20; ++i) {
    std::string s;
    for (uint64_t k = 0; k < 40; ++k) {
      static constexpr char32_t kRanges[][2] = {
          {0x20, 0x7E}, {0xA0, 0x17F}, {0x4E00, 0x9FFF}, {0x1F300, 0x1F6FF}, {0x9, 0xD}};
      const auto& r = kRanges[train::below(5, 7, i, k)];
      const char32_t cp = r[0] + static_cast<char32_t>(train::below(r[1] - r[0] + 1, 8, i, k));
      if (cp < 0x80) {
        s += static_cast<char>(cp);
      } else if (cp < 0x800) {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        s += static_cast<char>(0xE0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        s += static_cast<char>(0xF0 | (cp >> 18));
        s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      }
    }
    texts.push_back(s);
  }
  for (const std::string& s : texts) {
    for (const bool parse_special : {false, true}) {
      const std::vector<TokenId> ids = tok.encode(s, false, parse_special);
      EXPECT_EQ(tok.decode(ids, true), s) << "parse_special " << parse_special;
    }
  }
}

TEST_F(BpeTrainerFiles, SpecialsAreSingleTokensAndFrequentWordsAreWhole) {
  const auto path = dir_ / "tok.gguf";
  test::train_to_file(files_, 500, path);
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(path));
  for (const std::string_view s : train::kBpeSpecialTokens) {
    const std::vector<TokenId> ids = tok.encode(s, false, true);
    ASSERT_EQ(ids.size(), 1u) << s;
    EXPECT_EQ(ids[0], *tok.find(s));
    EXPECT_GT(tok.encode(s, false, false).size(), 1u) << s;  // plain text when not parsed
  }
  const std::vector<TokenId> chat = tok.encode("<|im_start|>user\nhi<|im_end|>", false, true);
  EXPECT_EQ(chat.front(), *tok.find("<|im_start|>"));
  EXPECT_EQ(chat.back(), *tok.find("<|im_end|>"));
  // The Chinese sentence follows a space in every document: the pre-tokenizer keeps it in front.
  for (const std::string_view w : {" the", " quick", " tokenizer", " words", " 今天天气很好"}) {
    EXPECT_EQ(tok.encode(w, false, false).size(), 1u) << "'" << w << "' should be one token";
  }
  // "|>" only ever occurs inside the special texts, which are cut out before counting.
  EXPECT_FALSE(tok.find("|>").has_value());
}

TEST_F(BpeTrainerFiles, IsDeterministicWhateverTheThreadCount) {
  test::train_to_file(files_, 450, dir_ / "one.gguf", 1);
  test::train_to_file(files_, 450, dir_ / "three.gguf", 3);
  test::train_to_file(files_, 450, dir_ / "again.gguf", 1);
  const std::string one = read_bytes(dir_ / "one.gguf");
  EXPECT_FALSE(one.empty());
  EXPECT_EQ(one, read_bytes(dir_ / "three.gguf"));
  EXPECT_EQ(one, read_bytes(dir_ / "again.gguf"));
}

// The message of the Error that fn throws ("" when it does not throw).
template <class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST_F(BpeTrainerFiles, BadInputNamesTheFileAndLine) {
  const auto bad = dir_ / "bad.jsonl";
  auto train_on = [&](const std::filesystem::path& p, int32_t vocab = 300) {
    return error_of([&] { test::train_to_file({p}, vocab, dir_ / "x.gguf"); });
  };
  write_text(bad, "{\"text\": \"ok\"}\n\n{\"text\": \"ok\"}\n{\"text\": \"no end}\n");
  std::string e = train_on(bad);
  EXPECT_NE(e.find(bad.string() + ":4: malformed JSON"), std::string::npos) << e;

  write_text(bad, "{\"text\": \"ok\"}\n{\"title\": \"no text\"}\n");
  e = train_on(bad);
  EXPECT_NE(e.find(bad.string() + ":2:"), std::string::npos) << e;
  EXPECT_NE(e.find("\"text\""), std::string::npos) << e;

  write_text(bad, "{\"text\": 5}\n");
  EXPECT_NE(train_on(bad).find(":1: field \"text\" is a number"), std::string::npos);

  write_text(bad, "[1, 2]\n");
  EXPECT_NE(train_on(bad).find(":1: expected a JSON object"), std::string::npos);

  write_text(bad, "{\"text\": \"ok\"}\n{\"text\": \"caf\xC3\"}\n");
  e = train_on(bad);
  EXPECT_NE(e.find(bad.string() + ":2: invalid UTF-8"), std::string::npos) << e;

  const auto bad_txt = dir_ / "bad.txt";
  write_text(bad_txt, "line one\nline two \xED\xA0\x80 (a surrogate)\n");
  e = train_on(bad_txt);
  EXPECT_NE(e.find(bad_txt.string() + ":2: invalid UTF-8"), std::string::npos) << e;

  e = train_on(dir_ / "missing.txt");
  EXPECT_NE(e.find("missing.txt"), std::string::npos) << e;

  e = train_on(files_[0], 258);
  EXPECT_NE(e.find("vocabulary size 258 is below the minimum 259"), std::string::npos) << e;

  write_text(bad_txt, "");
  EXPECT_NE(train_on(bad_txt).find("no text"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.gguf"));
}

TEST(Corpus, FindsTheFirstInvalidByte) {
  EXPECT_EQ(train::find_invalid_utf8("plain ascii text, long enough for the fast path"),
            std::string_view::npos);
  EXPECT_EQ(train::find_invalid_utf8("ok 今天 🎉"), std::string_view::npos);
  EXPECT_EQ(train::find_invalid_utf8("abcdefghij\xC0\xAF"), 10u);  // overlong '/'
  EXPECT_EQ(train::find_invalid_utf8("abc\xF4\x90\x80\x80"), 3u);  // above U+10FFFF
  EXPECT_EQ(train::find_invalid_utf8("abc\xE4\xBB"), 3u);          // cut short
}

}  // namespace
}  // namespace minima
