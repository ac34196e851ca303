// minima data: training-data tools. `data prepare` tokenizes corpus files into shuffled train and
// eval token shards (train/data_prepare.hpp).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "api/cli/list_option.hpp"
#include "core/error.hpp"
#include "model/gguf/gguf.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "train/data_prepare.hpp"

namespace minima::cli {

namespace {

constexpr const char* kDataUsage =
    "usage: minima data <subcommand> [options]   (minima data <subcommand> --help)\n"
    "\n"
    "subcommands:\n"
    "  prepare   tokenize corpus files into shuffled train/eval token shards\n";

int data_prepare(int argc, char** argv, int first) {
  ArgParser p("data prepare",
              "Tokenize corpus files into shuffled train and eval token shards (DIR/train.tok, "
              "DIR/eval.tok, DIR/meta.json).");
  p.opt("--tokenizer", "", "FILE", "GGUF vocabulary or model whose tokenizer to use")
      .multi("--input", "", "FILE...",
             "corpus files: *.jsonl (one {\"text\": ...} object per line) or any other file "
             "(one document)")
      .opt("--out", "-o", "DIR", "output directory (created if missing)")
      .opt("--eval-fraction", "", "F", "share of documents held out for eval (default 0.01)")
      .opt("--seed", "", "N", "seed of the split and the shuffle (default 1)");
  add_compute_options(p);
  std::vector<std::string> storage;
  std::vector<char*> args = expand_list_options(argc, argv, first, {"--input"}, storage);
  if (!p.parse(static_cast<int>(args.size()), args.data(), 0)) return 0;

  train::DataPrepareOptions opt;
  opt.tokenizer = p.required("--tokenizer");
  for (const std::string& f : p.get_all("--input")) opt.inputs.emplace_back(f);
  if (opt.inputs.empty()) fail("minima data prepare: option --input is required (see --help)");
  opt.out_dir = p.required("--out");
  opt.eval_fraction = p.get_float("--eval-fraction", 0.01);
  if (!(opt.eval_fraction >= 0.0 && opt.eval_fraction <= 1.0)) {
    fail("minima data prepare: option --eval-fraction: ", opt.eval_fraction, " is outside [0, 1]");
  }
  opt.seed = static_cast<uint64_t>(p.get_int("--seed", 1, 0, INT64_MAX));
  opt.threads = static_cast<int>(p.get_int("--threads", default_thread_count(), 1, 1024));

  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(opt.tokenizer));
  const train::DataPrepareResult r = train::prepare_data(tok, opt);
  std::printf(
      "wrote %s: train %llu documents, %llu tokens; eval %llu documents, %llu tokens "
      "(n_vocab %u)\n",
      opt.out_dir.string().c_str(), static_cast<unsigned long long>(r.train.documents),
      static_cast<unsigned long long>(r.train.tokens),
      static_cast<unsigned long long>(r.eval.documents),
      static_cast<unsigned long long>(r.eval.tokens), r.n_vocab);
  return 0;
}

}  // namespace

int cmd_data(int argc, char** argv, int first) {
  if (first >= argc)
    fail("minima data: a subcommand is required (prepare; see minima data --help)");
  const std::string_view sub = argv[first];
  if (sub == "--help" || sub == "-h") {
    std::fputs(kDataUsage, stdout);
    return 0;
  }
  if (sub == "prepare") return data_prepare(argc, argv, first + 1);
  fail("minima data: unknown subcommand '", sub, "' (known: prepare)");
}

}  // namespace minima::cli
