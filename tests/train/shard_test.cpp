// Token shards and `data prepare`: writer → reader round trips, every kind of damage is refused
// with a message naming the file, and the split and shuffle are deterministic by seed with every
// document in exactly one split.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "model/gguf/gguf.hpp"
#include "model/gguf/writer.hpp"
#include "runtime/tokenizer/byte_level.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "support/test_support.hpp"
#include "train/data_prepare.hpp"
#include "train/shard.hpp"
#include "train/train_test_util.hpp"

namespace minima {
namespace {

using test::read_bytes;
using test::write_text;

template <class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class ShardTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::temp_dir("shard"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ShardTest, RoundTripsBothWidths) {
  for (const uint32_t n_vocab : {1000u, 65536u, 70000u}) {
    std::vector<int32_t> tokens;
    for (int32_t i = 0; i < 5000; ++i) tokens.push_back((i * 7919) % static_cast<int32_t>(n_vocab));
    tokens.push_back(static_cast<int32_t>(n_vocab) - 1);
    const auto path = dir_ / "s.tok";
    train::write_token_shard(path, n_vocab, tokens);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "s.tok.tmp"));
    const uint32_t width = n_vocab <= 65536 ? 2 : 4;
    EXPECT_EQ(std::filesystem::file_size(path), 32 + tokens.size() * width);

    const train::TokenShard s = train::TokenShard::open(path);
    EXPECT_EQ(s.n_vocab(), n_vocab);
    EXPECT_EQ(s.bytes_per_token(), width);
    ASSERT_EQ(s.size(), tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) ASSERT_EQ(s[i], uint32_t(tokens[i])) << i;
    std::vector<int32_t> window(100);
    s.read(4901, window);
    EXPECT_TRUE(std::equal(window.begin(), window.end(), tokens.begin() + 4901));
    const std::string e = error_of([&] { s.read(4902, window); });
    EXPECT_NE(e.find("cannot read tokens [4902, 5002)"), std::string::npos) << e;
  }
}

TEST_F(ShardTest, StreamingWriterMatchesOneShotAndEmptyShardsOpen) {
  std::vector<int32_t> tokens(200000);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t(i % 3000);
  train::write_token_shard(dir_ / "one.tok", 3000, tokens);
  {
    train::ShardWriter w(dir_ / "many.tok", 3000);
    for (size_t i = 0; i < tokens.size(); i += 70001) {
      w.append(std::span(tokens).subspan(i, std::min<size_t>(70001, tokens.size() - i)));
    }
    EXPECT_FALSE(std::filesystem::exists(dir_ / "many.tok"));  // only after finish
    w.finish();
  }
  EXPECT_EQ(read_bytes(dir_ / "one.tok"), read_bytes(dir_ / "many.tok"));

  train::write_token_shard(dir_ / "empty.tok", 10, {});
  EXPECT_EQ(train::TokenShard::open(dir_ / "empty.tok").size(), 0u);
}

TEST_F(ShardTest, BadTokensAreRefusedAndLeaveNoFile) {
  const std::vector<int32_t> tokens = {1, 2, 10};
  const std::string e = error_of([&] { train::write_token_shard(dir_ / "bad.tok", 10, tokens); });
  EXPECT_NE(e.find("token 10 at position 2 is outside the vocabulary [0, 10)"), std::string::npos)
      << e;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bad.tok"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bad.tok.tmp"));
}

// A shard file with the given header fields and raw token bytes.
std::string make_shard(uint32_t width, uint32_t n_vocab, uint64_t n_tokens,
                       const std::string& payload, uint64_t checksum) {
  std::string s(train::kShardMagic, 8);
  s.append(reinterpret_cast<const char*>(&width), 4);
  s.append(reinterpret_cast<const char*>(&n_vocab), 4);
  s.append(reinterpret_cast<const char*>(&n_tokens), 8);
  s.append(reinterpret_cast<const char*>(&checksum), 8);
  return s + payload;
}

uint64_t checksum_of(const std::string& payload) {
  return train::fnv1a64(
      std::span(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
}

TEST_F(ShardTest, DamageIsReportedWithTheFileName) {
  const auto p = dir_ / "d.tok";
  auto open_error = [&](const std::string& bytes) {
    write_text(p, bytes);
    return error_of([&] { train::TokenShard::open(p); });
  };
  const std::string payload("\x01\x00\x02\x00\x03\x00", 6);  // tokens 1, 2, 3
  const uint64_t sum = checksum_of(payload);
  ASSERT_EQ(open_error(make_shard(2, 10, 3, payload, sum)), "");

  auto expect = [&](const std::string& bytes, const std::string& what) {
    const std::string e = open_error(bytes);
    EXPECT_NE(e.find(p.string() + ": "), std::string::npos) << e;
    EXPECT_NE(e.find(what), std::string::npos) << "expected '" << what << "' in: " << e;
  };
  expect("MNSHARD", "shorter than the 32-byte header");
  std::string wrong_magic = make_shard(2, 10, 3, payload, sum);
  wrong_magic[7] = '2';
  expect(wrong_magic, "does not start with \"MNSHARD1\"");
  expect(make_shard(4, 10, 3, payload, sum), "4 bytes per token for n_vocab 10 (expected 2)");
  expect(make_shard(2, 0, 3, payload, sum), "n_vocab 0 is outside");
  expect(make_shard(2, 10, 3, payload.substr(0, 5), sum), "truncated or damaged");
  expect(make_shard(2, 10, 4, payload, sum), "header says 4 tokens");
  expect(make_shard(2, 10, uint64_t(1) << 62, payload, sum), "truncated or damaged");
  std::string flipped = payload;
  flipped[2] = '\x05';
  expect(make_shard(2, 10, 3, flipped, sum), "checksum mismatch");
  const std::string big("\x01\x00\x0A\x00\x03\x00", 6);  // token 10 with n_vocab 10
  expect(make_shard(2, 10, 3, big, checksum_of(big)), "token 10 at position 1 is not below");
  const std::string e = error_of([&] { train::TokenShard::open(dir_ / "none.tok"); });
  EXPECT_NE(e.find("none.tok: cannot open"), std::string::npos) << e;
}

// data prepare on 1000 small documents with a vocabulary trained on them.
class DataPrepareTest : public ShardTest {
 protected:
  void SetUp() override {
    ShardTest::SetUp();
    std::string a, b;
    for (int i = 0; i < 1000; ++i) {
      (i < 600 ? a : b) += "{\"text\": \"doc " + std::to_string(i) + ": " +
                           test::sample_text(i).substr(0, 40) + "\"}\n";
    }
    write_text(dir_ / "a.jsonl", a);
    write_text(dir_ / "b.jsonl", b);
    inputs_ = {dir_ / "a.jsonl", dir_ / "b.jsonl"};
    test::train_to_file(inputs_, 400, dir_ / "tok.gguf");
    tok_ = std::make_unique<Tokenizer>(Tokenizer::from_gguf(GgufFile::open(dir_ / "tok.gguf")));
  }

  train::DataPrepareResult prepare(const std::string& out, uint64_t seed, double frac) {
    train::DataPrepareOptions opt;
    opt.tokenizer = dir_ / "tok.gguf";
    opt.inputs = inputs_;
    opt.out_dir = dir_ / out;
    opt.seed = seed;
    opt.eval_fraction = frac;
    opt.threads = 2;
    return train::prepare_data(*tok_, opt);
  }

  // The documents of a shard, decoded, in shard order.
  std::vector<std::string> documents(const std::filesystem::path& p) {
    const train::TokenShard s = train::TokenShard::open(p);
    const uint32_t eot = static_cast<uint32_t>(*tok_->find("<|endoftext|>"));
    std::vector<std::string> docs;
    std::vector<TokenId> cur;
    for (uint64_t i = 0; i < s.size(); ++i) {
      if (s[i] == eot) {
        docs.push_back(tok_->decode(cur, true));
        cur.clear();
      } else {
        cur.push_back(static_cast<TokenId>(s[i]));
      }
    }
    EXPECT_TRUE(cur.empty()) << "every document ends with <|endoftext|>";
    return docs;
  }

  std::vector<std::filesystem::path> inputs_;
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(DataPrepareTest, EveryDocumentLandsInExactlyOneSplitAsTheSeedSays) {
  const train::DataPrepareResult r = prepare("out", 1, 0.1);
  const std::vector<std::string> train_docs = documents(dir_ / "out/train.tok");
  const std::vector<std::string> eval_docs = documents(dir_ / "out/eval.tok");
  EXPECT_EQ(train_docs.size() + eval_docs.size(), 1000u);
  // 1000 draws at p = 0.1: mean 100, standard deviation 9.5; this band is about ±4.2σ.
  EXPECT_GE(eval_docs.size(), 60u);
  EXPECT_LE(eval_docs.size(), 140u);
  std::set<int> seen;
  for (const auto* split : {&train_docs, &eval_docs}) {
    for (const std::string& d : *split) {
      const int index = std::stoi(d.substr(4));  // "doc N: ..."
      EXPECT_TRUE(seen.insert(index).second) << "document " << index << " twice";
      EXPECT_EQ(train::is_eval_document(1, uint64_t(index), 0.1), split == &eval_docs) << index;
      EXPECT_EQ(d, "doc " + std::to_string(index) + ": " + test::sample_text(index).substr(0, 40));
    }
  }
  EXPECT_EQ(seen.size(), 1000u);

  EXPECT_EQ(r.train.documents, train_docs.size());
  EXPECT_EQ(r.eval.documents, eval_docs.size());
  EXPECT_EQ(r.train.tokens, train::TokenShard::open(dir_ / "out/train.tok").size());
  EXPECT_EQ(r.n_vocab, uint32_t(tok_->n_vocab()));
  const auto meta = nlohmann::json::parse(read_bytes(dir_ / "out/meta.json"));
  EXPECT_EQ(meta["n_vocab"], tok_->n_vocab());
  EXPECT_EQ(meta["seed"], 1);
  EXPECT_EQ(meta["splits"]["eval"]["documents"], eval_docs.size());
  EXPECT_EQ(meta["splits"]["train"]["tokens"], r.train.tokens);
  ASSERT_EQ(meta["inputs"].size(), 2u);
  EXPECT_EQ(meta["inputs"][0]["documents"], 600);
  EXPECT_EQ(meta["inputs"][1]["documents"], 400);
  EXPECT_EQ(uint64_t(meta["inputs"][0]["tokens"]) + uint64_t(meta["inputs"][1]["tokens"]),
            r.train.tokens + r.eval.tokens);
  for (const char* f : {"train.tok.tmp", "eval.tok.tmp", "meta.json.tmp"}) {
    EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / f)) << f;
  }
}

TEST_F(DataPrepareTest, SplitAndOrderAreDeterministicBySeed) {
  prepare("a", 7, 0.05);
  prepare("b", 7, 0.05);
  prepare("c", 8, 0.05);
  EXPECT_EQ(read_bytes(dir_ / "a/train.tok"), read_bytes(dir_ / "b/train.tok"));
  EXPECT_EQ(read_bytes(dir_ / "a/eval.tok"), read_bytes(dir_ / "b/eval.tok"));
  EXPECT_NE(read_bytes(dir_ / "a/train.tok"), read_bytes(dir_ / "c/train.tok"));
  // Shuffled: the train documents are not in input order.
  const std::vector<std::string> docs = documents(dir_ / "a/train.tok");
  EXPECT_FALSE(std::is_sorted(docs.begin(), docs.end(), [](const auto& x, const auto& y) {
    return std::stoi(x.substr(4)) < std::stoi(y.substr(4));
  }));
}

TEST_F(DataPrepareTest, EdgesOfTheEvalFraction) {
  EXPECT_EQ(prepare("none", 1, 0.0).eval.documents, 0u);
  EXPECT_EQ(train::TokenShard::open(dir_ / "none/eval.tok").size(), 0u);
  EXPECT_EQ(prepare("all", 1, 1.0).train.documents, 0u);
  const std::string e = error_of([&] { prepare("x", 1, 1.5); });
  EXPECT_NE(e.find("eval fraction 1.5 is outside [0, 1]"), std::string::npos) << e;
}

TEST_F(DataPrepareTest, BadInputAndTokenizerWithoutEndOfTextUsesEos) {
  write_text(dir_ / "bad.jsonl", "{\"text\": \"fine\"}\n{\"text\": \"\xFF\"}\n");
  inputs_.push_back(dir_ / "bad.jsonl");
  std::string e = error_of([&] { prepare("out", 1, 0.1); });
  EXPECT_NE(e.find("bad.jsonl:2: invalid UTF-8"), std::string::npos) << e;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "train.tok"));

  train::BpeVocab v;
  v.name = "no-eot";
  const tok::ByteLevel bl;
  for (int b = 0; b < 256; ++b) v.tokens.emplace_back(bl.encode(static_cast<unsigned char>(b)));
  v.tokens.emplace_back("<|im_end|>");
  v.token_types.assign(v.tokens.size(), 1);
  v.bos_id = v.eos_id = v.pad_id = 256;
  GgufWriter w;
  train::write_bpe_tokenizer_metadata(w, v);
  w.write(dir_ / "no-eot.gguf");
  tok_ = std::make_unique<Tokenizer>(Tokenizer::from_gguf(GgufFile::open(dir_ / "no-eot.gguf")));
  // Without <|endoftext|>, the end-of-sequence token (here <|im_end|>) separates documents.
  inputs_.pop_back();
  const auto r = prepare("out2", 1, 0.0);
  EXPECT_EQ(r.eot_id, 256);
}

}  // namespace
}  // namespace minima
