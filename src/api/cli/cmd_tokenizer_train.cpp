// minima tokenizer-train: trains a byte-level BPE vocabulary on corpus files and writes it as a
// tensor-less GGUF that minima and llama.cpp load as a tokenizer (and that model export copies).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "api/cli/list_option.hpp"
#include "core/error.hpp"
#include "model/gguf/gguf.hpp"
#include "model/gguf/writer.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "train/bpe_trainer.hpp"

namespace minima::cli {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int cmd_tokenizer_train(int argc, char** argv, int first) {
  ArgParser p("tokenizer-train",
              "Train a byte-level BPE tokenizer (qwen2 pre-tokenizer, ChatML specials) and write "
              "it as a GGUF vocabulary.");
  p.multi("--corpus", "", "FILE...",
          "corpus files: *.jsonl (one {\"text\": ...} object per line) or any other file (one "
          "document)")
      .opt("--vocab", "", "N", "vocabulary size, the 3 special tokens included (>= 259)")
      .opt("--out", "-o", "FILE", "output GGUF vocabulary")
      .opt("--min-frequency", "", "N", "merge only pairs seen at least N times (default 2)")
      .opt("--name", "", "NAME", "general.name (default: the output file's name without .gguf)");
  add_compute_options(p);
  std::vector<std::string> storage;
  std::vector<char*> args = expand_list_options(argc, argv, first, {"--corpus"}, storage);
  if (!p.parse(static_cast<int>(args.size()), args.data(), 0)) return 0;

  std::vector<std::filesystem::path> files;
  for (const std::string& f : p.get_all("--corpus")) files.emplace_back(f);
  if (files.empty()) fail("minima tokenizer-train: option --corpus is required (see --help)");
  const std::filesystem::path out = p.required("--out");
  train::BpeTrainOptions opt;
  if (!p.has("--vocab")) fail("minima tokenizer-train: option --vocab is required (see --help)");
  opt.vocab_size = static_cast<int32_t>(p.get_int("--vocab", 0, train::kMinBpeVocab, INT32_MAX));
  opt.min_frequency = static_cast<uint64_t>(p.get_int("--min-frequency", 2, 1, INT64_MAX));
  opt.threads = static_cast<int>(p.get_int("--threads", default_thread_count(), 1, 1024));
  opt.name = p.get("--name").value_or(out.stem().string());

  const auto t0 = std::chrono::steady_clock::now();
  const train::WordCounts words = train::count_corpus_words(files, opt.threads);
  if (words.empty()) fail("minima tokenizer-train: the corpus files hold no text");
  uint64_t n_words = 0;
  for (const auto& [w, n] : words) n_words += n;
  std::fprintf(stderr, "counted %llu words (%zu distinct) in %.1f s\n",
               static_cast<unsigned long long>(n_words), words.size(), seconds_since(t0));

  const auto t1 = std::chrono::steady_clock::now();
  const train::BpeVocab v = train::train_bpe(words, opt);
  std::fprintf(stderr, "trained %d tokens (%zu merges) in %.1f s\n", v.size(), v.merges.size(),
               seconds_since(t1));
  if (v.size() < opt.vocab_size) {
    std::fprintf(stderr,
                 "note: stopped at %d of %d tokens: no pair left that occurs at least %llu "
                 "times\n",
                 v.size(), opt.vocab_size, static_cast<unsigned long long>(opt.min_frequency));
  }

  GgufWriter w;
  train::write_bpe_tokenizer_metadata(w, v);
  w.write(out);
  // Loading it back checks the file the way every consumer will read it.
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(out));
  std::printf("wrote %s: %d tokens, %zu merges\n", out.string().c_str(), tok.n_vocab(),
              v.merges.size());
  return 0;
}

}  // namespace minima::cli
