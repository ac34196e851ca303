// minima compare --models A.gguf B.gguf ... --file TEXT: the table a user reads before choosing a
// model — parameters, file size, perplexity on the text, next-token top-1 agreement with and KL
// divergence to the first model, prefill and decode speed on this machine.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "model/forward.hpp"
#include "runtime/eval/text_eval.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "train/shard.hpp"

namespace minima::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Speed {
  double prefill = 0, decode = 0;  // tokens/s, best of the timed runs
};

Speed measure_speed(const Model& m, const Compute& c, int64_t n_prompt, int64_t n_gen, int reps) {
  SessionOptions so;
  so.n_ctx = n_prompt + n_gen;
  Session s(m, *c.kernels, *c.pool, so);
  std::vector<int32_t> toks(static_cast<size_t>(n_prompt));
  for (size_t i = 0; i < toks.size(); ++i)
    toks[i] = int32_t((i * 7919 + 13) % size_t(m.hparams().n_vocab));
  Speed best;
  for (int r = -1; r < reps; ++r) {  // r = −1: warm-up
    s.reset();
    const auto t0 = Clock::now();
    s.eval(toks);
    const auto t1 = Clock::now();
    int32_t t = toks.back();
    for (int64_t i = 0; i < n_gen; ++i) {
      s.eval(std::span(&t, 1), nullptr, true);
      t = int32_t((t + 7919) % m.hparams().n_vocab);
    }
    const auto t2 = Clock::now();
    if (r < 0) continue;
    best.prefill =
        std::max(best.prefill, double(n_prompt) / std::chrono::duration<double>(t1 - t0).count());
    best.decode =
        std::max(best.decode, double(n_gen) / std::chrono::duration<double>(t2 - t1).count());
  }
  return best;
}

std::string human(double b) {
  char buf[32];
  if (b >= 1e9)
    std::snprintf(buf, sizeof buf, "%.2fG", b / 1e9);
  else if (b >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2fM", b / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.1fK", b / 1e3);
  return buf;
}

}  // namespace

int cmd_compare(int argc, char** argv, int first) {
  ArgParser p("compare",
              "Compare models on a text: size, perplexity, agreement with and KL to the "
              "first model, speed.");
  p.multi("--models", "", "FILE",
          "models to compare (the first is the reference); repeatable, "
          "or several files after one --models")
      .opt("--file", "-f", "FILE", "text to score")
      .opt("--shard", "", "FILE", "or: a token shard to score (minima data prepare's eval.tok)")
      .opt("--ctx", "-c", "N", "window length (default 256, at most the models' contexts)")
      .opt("--max-windows", "", "N", "score at most N windows")
      .opt("--speed-prompt", "", "N",
           "prompt tokens of the speed test (default 128; 0: no speed test)")
      .opt("--speed-gen", "", "N", "generated tokens of the speed test (default 32)")
      .flag("--json", "print JSON");
  add_compute_options(p);
  add_load_options(p);
  // Files following --models without a flag of their own belong to it.
  std::vector<std::string> extra;
  std::vector<char*> args(argv, argv + argc);
  std::vector<char*> kept(args.begin(), args.begin() + first);
  for (int i = first; i < argc; ++i) {
    kept.push_back(args[size_t(i)]);
    if (std::string(args[size_t(i)]) == "--models" && i + 1 < argc) {
      kept.push_back(args[size_t(++i)]);
      while (i + 1 < argc && args[size_t(i + 1)][0] != '-') extra.emplace_back(args[size_t(++i)]);
    }
  }
  if (!p.parse(int(kept.size()), kept.data(), first)) return 0;
  std::vector<std::string> paths = p.get_all("--models");
  paths.insert(paths.end(), extra.begin(), extra.end());
  if (paths.size() < 1) fail("minima compare: give the models with --models A.gguf B.gguf ...");
  if (p.has("--file") == p.has("--shard")) fail("minima compare: give --file or --shard");
  const std::string text_path = p.has("--file") ? *p.get("--file") : *p.get("--shard");
  Compute c = make_compute(p);
  const int64_t n_prompt = p.get_int("--speed-prompt", 128, 0, 1 << 16);
  const int64_t n_gen = p.get_int("--speed-gen", 32, 1, 1 << 16);

  std::vector<Model> models;
  for (const auto& m : paths) models.push_back(Model::load(m, file_load(p)));
  const Tokenizer tok = Tokenizer::from_gguf(models[0].file());
  std::string text;
  std::vector<int32_t> ids;
  if (p.has("--file")) {
    text = read_file(text_path);
    ids = tok.encode(text, true, false);
  } else {
    const auto shard = train::TokenShard::open(text_path);
    for (const auto& m : models)
      if (int64_t(shard.n_vocab()) != m.hparams().n_vocab)
        fail("minima compare: ", text_path, " was tokenized for ", shard.n_vocab(),
             " tokens, a model has ", m.hparams().n_vocab);
    ids.resize(shard.size());
    shard.read(0, ids);
  }
  int64_t ctx_max = INT64_MAX;
  for (const auto& m : models) ctx_max = std::min(ctx_max, m.hparams().n_ctx_train);
  TextEvalOptions eo;
  eo.ctx = p.get_int("--ctx", std::min<int64_t>(256, ctx_max), 2, ctx_max);
  eo.max_windows = p.get_int("--max-windows", INT64_MAX, 1, INT64_MAX);
  eo.bos = tok.add_bos() && tok.bos() >= 0 ? tok.bos() : -1;

  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < models.size(); ++i) {
    if (i > 0 && p.has("--file") &&
        Tokenizer::from_gguf(models[i].file()).encode(text, true, false) != ids)
      fail("minima compare: ", paths[i], " tokenizes the text differently from ", paths[0],
           ": the models must share a vocabulary");
    const TextEval r =
        evaluate_text(models[i], i > 0 ? &models[0] : nullptr, ids, eo, *c.kernels, *c.pool);
    int64_t params = 0;
    for (const auto& t : models[i].file().tensors()) params += t.n_elements();
    const Speed sp = n_prompt > 0 ? measure_speed(models[i], c, n_prompt, n_gen, 2) : Speed{};
    rows.push_back({{"model", paths[i]},
                    {"params", params},
                    {"file_bytes", std::filesystem::file_size(paths[i])},
                    {"perplexity", r.perplexity},
                    {"accuracy", r.accuracy},
                    {"top1_agreement", i > 0 ? r.top1_agreement : 1.0},
                    {"kl_mean", i > 0 ? r.kl_mean : 0.0},
                    {"kl_p99", i > 0 ? r.kl_p99 : 0.0},
                    {"prefill_tps", sp.prefill},
                    {"decode_tps", sp.decode}});
  }
  if (p.get_flag("--json")) {
    std::printf("%s\n", nlohmann::json({{"ctx", eo.ctx}, {"models", rows}}).dump(1).c_str());
    return 0;
  }
  std::printf(
      "| model | params | file | PPL | next-token accuracy (share of first's) | top-1 agreement "
      "with first | KL to first (mean / p99) | prefill t/s | decode t/s |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  const double acc0 = rows[0]["accuracy"].get<double>();
  for (const auto& r : rows) {
    const double acc = r["accuracy"].get<double>();
    std::printf("| %s | %s | %sB | %.4f | %.1f%% (%.1f%%) | %.1f%% | %.4f / %.4f | %.1f | %.1f |\n",
                std::filesystem::path(r["model"].get<std::string>()).filename().c_str(),
                human(double(r["params"].get<int64_t>())).c_str(),
                human(double(r["file_bytes"].get<uint64_t>())).c_str(),
                r["perplexity"].get<double>(), 100 * acc, acc0 > 0 ? 100 * acc / acc0 : 0.0,
                100 * r["top1_agreement"].get<double>(), r["kl_mean"].get<double>(),
                r["kl_p99"].get<double>(), r["prefill_tps"].get<double>(),
                r["decode_tps"].get<double>());
  }
  std::printf(
      "(%s, windows of %lld tokens, second halves scored; speed: %lld-token prompt, %lld "
      "generated, %d threads)\n",
      text_path.c_str(), (long long)eo.ctx, (long long)n_prompt, (long long)n_gen, c.pool->size());
  return 0;
}

}  // namespace minima::cli
