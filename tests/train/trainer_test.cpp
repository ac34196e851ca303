// The training loop end to end on a tiny model and corpus: resume is bit-identical to an
// uninterrupted run, the thread count does not change a bit, the model learns a repetitive text,
// the exported GGUF computes in minima's inference engine what the trainer computed, and broken
// recipes or checkpoints are refused with messages naming the problem.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "core/error.hpp"
#include "model/gguf/writer.hpp"
#include "model/model.hpp"
#include "model/forward.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "support/test_support.hpp"
#include "train/bpe_trainer.hpp"
#include "train/checkpoint.hpp"
#include "train/shard.hpp"
#include "train/trainer.hpp"

namespace minima::train {
namespace {

namespace fs = std::filesystem;

// A corpus of short chat documents with a few facts repeated many times (learnable in a few
// dozen steps), a tokenizer trained on it and its token shards, in dir.
void make_data(const fs::path& dir) {
  const char* facts[] = {"The sky is blue.", "Water is wet.", "Fire is hot.", "Ice is cold.",
                         "Grass is green.", "Snow is white.", "Coal is black.", "Gold is yellow."};
  std::ofstream corpus(dir / "corpus.txt");
  std::vector<std::string> docs;
  for (int i = 0; i < 400; ++i) {
    const std::string f = facts[(i * 7) % 8];
    docs.push_back("<|im_start|>user\nTell me a fact.<|im_end|>\n<|im_start|>assistant\n" + f +
                   "<|im_end|>\n");
    corpus << docs.back();
  }
  corpus.close();
  BpeTrainOptions bo;
  bo.vocab_size = 300;
  const std::vector<fs::path> files{dir / "corpus.txt"};
  const BpeVocab v = train_bpe_tokenizer(files, bo);
  GgufWriter w;
  write_bpe_tokenizer_metadata(w, v);
  w.write(dir / "tok.gguf");
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(dir / "tok.gguf"));
  std::vector<int32_t> ids;
  for (const auto& d : docs) {
    const auto e = tok.encode(d, false, true);
    ids.insert(ids.end(), e.begin(), e.end());
    ids.push_back(*tok.find("<|endoftext|>"));
  }
  write_token_shard(dir / "train.tok", uint32_t(tok.n_vocab()), ids);
  write_token_shard(dir / "eval.tok", uint32_t(tok.n_vocab()),
                    std::span<const int32_t>(ids).subspan(0, 400));
}

fs::path write_recipe(const fs::path& dir, const std::string& name, const std::string& extra_train,
                      int steps = 8, const std::string& lr = "3e-3") {
  const fs::path p = dir / (name + ".toml");
  std::ofstream f(p);
  f << "[model]\nn_embd = 32\nn_layer = 2\nn_head = 4\nn_head_kv = 2\nn_ff = 64\nn_ctx = 16\n"
    << "[data]\ntokenizer = \"" << (dir / "tok.gguf").string() << "\"\ntrain = \""
    << (dir / "train.tok").string() << "\"\neval = \"" << (dir / "eval.tok").string() << "\"\n"
    << "[train]\nsteps = " << steps << "\nbatch = 3\naccum = 2\nlr = " << lr << "\nwarmup = 2\n"
    << "checkpoint_dir = \"" << (dir / ("ckpt-" + name)).string() << "\"\n"
    << extra_train << "\n[export]\nout = \"" << (dir / (name + ".gguf")).string()
    << "\"\ntype = \"F32\"\n";
  return p;
}

TrainOptions quiet(int threads = 2) {
  TrainOptions o;
  o.threads = threads;
  o.log = [](const std::string&) {};
  return o;
}

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = test::temp_dir("trainer");
    make_data(dir_);
  }
  static fs::path dir_;
};
fs::path TrainerTest::dir_;

TEST_F(TrainerTest, ResumeIsBitIdentical) {
  const KernelSet& ks = kernels_for(detect_isa());
  const Recipe full = load_recipe(write_recipe(dir_, "full", ""));
  const TrainSummary a = train(full, ks, quiet());
  ASSERT_EQ(a.losses.size(), 8u);

  const Recipe split = load_recipe(write_recipe(dir_, "split", ""));
  TrainOptions first = quiet();
  first.stop_after = 3;
  const TrainSummary b1 = train(split, ks, first);
  EXPECT_FALSE(b1.exported);
  TrainOptions second = quiet();
  second.resume = true;
  const TrainSummary b2 = train(split, ks, second);
  EXPECT_TRUE(b2.exported);
  std::vector<double> b = b1.losses;
  b.insert(b.end(), b2.losses.begin(), b2.losses.end());
  ASSERT_EQ(a.losses.size(), b.size());
  for (size_t i = 0; i < b.size(); ++i)
    EXPECT_EQ(0, std::memcmp(&a.losses[i], &b[i], sizeof(double))) << "step " << i + 1;
  // The exported models are byte-identical too.
  std::ifstream fa(dir_ / "full.gguf", std::ios::binary), fb(dir_ / "split.gguf", std::ios::binary);
  const std::string sa((std::istreambuf_iterator<char>(fa)), {}),
      sb((std::istreambuf_iterator<char>(fb)), {});
  EXPECT_FALSE(sa.empty());
  EXPECT_TRUE(sa == sb);
}

TEST_F(TrainerTest, ThreadCountDoesNotChangeABit) {
  const KernelSet& ks = kernels_for(detect_isa());
  const Recipe r1 = load_recipe(write_recipe(dir_, "t1", "", 3));
  const Recipe r3 = load_recipe(write_recipe(dir_, "t3", "", 3));
  const TrainSummary a = train(r1, ks, quiet(1)), b = train(r3, ks, quiet(3));
  ASSERT_EQ(a.losses.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(0, std::memcmp(&a.losses[i], &b.losses[i], 8));
}

TEST_F(TrainerTest, LearnsARepetitiveCorpusAndExportsWhatItTrained) {
  const KernelSet& ks = kernels_for(detect_isa());
  const Recipe r = load_recipe(
      write_recipe(dir_, "learn", "eval_every = 150\neval_batches = 2\nprecision = \"f32\"", 150, "1e-2"));
  const TrainSummary s = train(r, ks, quiet());
  ASSERT_EQ(s.losses.size(), 150u);
  // Uniform guessing over 300 tokens costs ln 300 ≈ 5.7 nats; the documents repeat 8 facts.
  EXPECT_GT(s.losses.front(), 5.0);
  // Measured ~0.3 at the end (the choice among 8 facts costs ~0.1 nats per token on average).
  EXPECT_LT(s.losses.back(), 1.0);
  ASSERT_TRUE(s.exported);
  ASSERT_GT(s.last_eval_loss, 0.0);

  // The exported F32 model in the inference engine: the mean loss of the eval windows the trainer
  // evaluated (two windows of 17 tokens from the start) must be the trainer's, up to float
  // rounding of two different summation orders (relative 1e-4 is ~1000 u).
  const Model m = Model::load(r.out);
  const TokenShard eval = TokenShard::open(r.eval_data);
  ThreadPool pool(2);
  SessionOptions so;
  so.n_ctx = 16;
  Session session(m, ks, pool, so);
  const int64_t v = m.hparams().n_vocab;
  std::vector<float> logits(size_t(16 * v));
  double nll = 0;
  int64_t count = 0;
  for (uint64_t w = 0; w < 2 * 3 && (w + 1) * 16 < eval.size(); ++w) {
    std::vector<int32_t> win(17);
    eval.read(w * 16, win);
    session.reset();
    session.eval(std::span<const int32_t>(win.data(), 16), logits.data());
    for (int64_t j = 0; j < 16; ++j) {
      const float* z = &logits[size_t(j * v)];
      double mx = z[0], sum = 0;
      for (int64_t i = 1; i < v; ++i) mx = std::max(mx, double(z[i]));
      for (int64_t i = 0; i < v; ++i) sum += std::exp(double(z[i]) - mx);
      nll += mx + std::log(sum) - z[win[size_t(j + 1)]];
      ++count;
    }
  }
  EXPECT_NEAR(nll / double(count), s.last_eval_loss, 1e-4 * s.last_eval_loss);
}

TEST_F(TrainerTest, BadRecipesAreRefusedByName) {
  const auto expect_error = [&](const std::string& body, const std::string& needle) {
    const fs::path p = dir_ / "bad.toml";
    std::ofstream(p) << body;
    try {
      load_recipe(p);
      ADD_FAILURE() << "accepted: " << body;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  const std::string model = "[model]\nn_embd = 32\nn_layer = 2\nn_head = 4\nn_ff = 64\nn_ctx = 16\n";
  const std::string data = "[data]\ntokenizer = \"t\"\ntrain = \"x\"\n";
  const std::string tr = "[train]\nsteps = 5\nbatch = 2\nlr = 1e-3\n";
  const std::string ex = "[export]\nout = \"o.gguf\"\n";
  expect_error(model + data + tr + ex + "[extra]\n", "extra");
  expect_error(model + "n_embed = 3\n" + data + tr + ex, "n_embed");
  expect_error(model + data + "[train]\nsteps = \"many\"\nbatch = 2\nlr = 1e-3\n" + ex, "steps");
  expect_error(model + data + "[train]\nbatch = 2\nlr = 1e-3\n" + ex, "steps is required");
  expect_error(model + data + tr + "precision = \"fp8\"\n" + ex, "precision");
  expect_error(model + data + tr + "[export]\nout = \"o\"\ntype = \"Q4_0\"\n", "type");
  expect_error("[model\n", "bad.toml:1");
}

TEST_F(TrainerTest, DamagedOrForeignCheckpointsAreRefused) {
  const KernelSet& ks = kernels_for(detect_isa());
  const Recipe r = load_recipe(write_recipe(dir_, "ck", "", 2));
  train(r, ks, quiet());
  const fs::path ck = *latest_checkpoint(r.checkpoint_dir);
  // Another recipe (a different learning rate) must not resume from it.
  const Recipe other = load_recipe(write_recipe(dir_, "ck", "min_lr = 1e-5", 2));
  TrainOptions o = quiet();
  o.resume = true;
  try {
    train(other, ks, o);
    ADD_FAILURE() << "resumed under another recipe";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("different recipe"), std::string::npos) << e.what();
  }
  // One flipped byte in the middle is caught by the checksum.
  {
    std::fstream f(ck, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  try {
    train(r, ks, o);
    ADD_FAILURE() << "resumed from a corrupt checkpoint";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace minima::train
