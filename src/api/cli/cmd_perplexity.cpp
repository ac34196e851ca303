// minima perplexity: how well a model predicts a text it is given, with the inference engine.
//
// The text (--file, tokenized with the model's tokenizer, BOS first where the vocabulary adds one,
// exactly as llama-perplexity tokenizes it; or --shard, a token shard written by
// `minima data prepare`) is cut into non-overlapping windows of --ctx tokens; each window is run
// from an empty context and, following llama.cpp's perplexity tool, only the predictions of its
// second half are scored (each then sees at least ctx/2 tokens of context): the token at position
// j + 1 is scored against the logits at j for j in [ctx/2, ctx − 1). With --all-positions every
// position of the window is scored instead (the training loss's convention). When the vocabulary
// adds a BOS token, a window's first token is replaced by BOS, as llama.cpp does. Prints the mean
// negative log-likelihood (nats per token) and its exponential, the perplexity.
//
// With --kl-base BASE.gguf the same windows also run through BASE (e.g. the F16 model a
// quantization was made from) and, at every scored position, the distributions are compared:
// KL(base ‖ model) in nats (mean, median, p99, max over positions), the share of positions where
// both put the same token first, and BASE's own perplexity. The two models must tokenize the
// text identically (same vocabulary).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "runtime/engine/generate.hpp"
#include "train/shard.hpp"

namespace minima::cli {

int cmd_perplexity(int argc, char** argv, int first) {
  ArgParser p("perplexity", "Perplexity of a model on a text (llama.cpp's windows convention).");
  p.opt("--model", "-m", "FILE", "GGUF model (default: the built-in minima-mini)")
      .opt("--file", "-f", "FILE", "text to score (tokenized with the model's tokenizer)")
      .opt("--shard", "", "FILE", "token shard to score (minima data prepare's train.tok/eval.tok)")
      .opt("--ctx", "-c", "N", "window length in tokens (default: the model's training context)")
      .opt("--max-windows", "", "N", "score at most N windows (default: all)")
      .opt("--kl-base", "", "FILE",
           "also compare against this model: KL divergence, top-1 agreement")
      .flag("--all-positions", "score every position of a window, not only its second half")
      .flag("--json", "print the result as JSON");
  add_compute_options(p);
  add_load_options(p);
  if (!p.parse(argc, argv, first)) return 0;
  if (p.has("--file") == p.has("--shard")) fail("minima perplexity: give --file or --shard");

  Compute c = make_compute(p);
  const std::string path = model_path(p);
  const Model model = Model::load(path, file_load(p));
  const Tokenizer tok = Tokenizer::from_gguf(model.file());
  std::vector<int32_t> ids;
  if (auto f = p.get("--file")) {
    ids = tok.encode(read_file(*f), true, false);
  } else {
    const auto shard = train::TokenShard::open(*p.get("--shard"));
    if (shard.n_vocab() != uint32_t(tok.n_vocab()))
      fail("minima perplexity: ", *p.get("--shard"), " was tokenized for ", shard.n_vocab(),
           " tokens, the model's vocabulary has ", tok.n_vocab());
    ids.resize(shard.size());
    shard.read(0, ids);
  }
  const int64_t ctx = p.get_int("--ctx", model.hparams().n_ctx_train, 2, 1 << 20);
  const int64_t windows = std::min<int64_t>(int64_t(ids.size()) / ctx,
                                            p.get_int("--max-windows", INT64_MAX, 1, INT64_MAX));
  if (windows < 1)
    fail("minima perplexity: the text is ", ids.size(), " tokens, fewer than one window of ", ctx);
  const bool all = p.get_flag("--all-positions");
  const int64_t v = model.hparams().n_vocab, first_scored = all ? 0 : ctx / 2;

  SessionOptions so;
  so.n_ctx = ctx;
  Session session(model, *c.kernels, *c.pool, so);
  std::optional<Model> base;
  std::optional<Session> base_session;
  if (auto b = p.get("--kl-base")) {
    base.emplace(Model::load(*b, file_load(p)));
    if (base->hparams().n_vocab != v)
      fail("minima perplexity: --kl-base ", *b, " has a vocabulary of ", base->hparams().n_vocab,
           " tokens, ", path, " has ", v, ": distributions cannot be compared");
    if (p.has("--file") &&
        Tokenizer::from_gguf(base->file()).encode(read_file(*p.get("--file")), true, false) != ids)
      fail("minima perplexity: --kl-base ", *b, " tokenizes the text differently from ", path);
    base_session.emplace(*base, *c.kernels, *c.pool, so);
  }
  std::vector<float> logits(size_t(ctx * v)), base_logits(base ? size_t(ctx * v) : 0);
  std::vector<int32_t> window(static_cast<size_t>(ctx));
  std::vector<double> lp(base ? size_t(v) : 0), kls;
  double nll = 0, base_nll = 0;
  int64_t count = 0, agree = 0;
  // log Σ exp z over the vocabulary, computed stably.
  auto log_sum_exp = [v](const float* z) {
    double mx = z[0], s = 0;
    for (int64_t i = 1; i < v; ++i) mx = std::max(mx, double(z[i]));
    for (int64_t i = 0; i < v; ++i) s += std::exp(double(z[i]) - mx);
    return mx + std::log(s);
  };
  for (int64_t w = 0; w < windows; ++w) {
    std::copy(ids.begin() + w * ctx, ids.begin() + (w + 1) * ctx, window.begin());
    if (tok.add_bos() && tok.bos() >= 0) window[0] = tok.bos();
    session.reset();
    session.eval(window, logits.data());
    if (base) {
      base_session->reset();
      base_session->eval(window, base_logits.data());
    }
    // The window's last position has no next token inside the window.
    for (int64_t j = first_scored; j + 1 < ctx; ++j) {
      const float* z = &logits[size_t(j * v)];
      const double lz = log_sum_exp(z);
      nll += lz - double(z[window[size_t(j + 1)]]);
      ++count;
      if (!base) continue;
      const float* zb = &base_logits[size_t(j * v)];
      const double lzb = log_sum_exp(zb);
      base_nll += lzb - double(zb[window[size_t(j + 1)]]);
      double kl = 0;
      for (int64_t i = 0; i < v; ++i) {
        const double lpb = double(zb[i]) - lzb;
        kl += std::exp(lpb) * (lpb - (double(z[i]) - lz));
      }
      kls.push_back(std::max(kl, 0.0));
      agree += std::max_element(z, z + v) - z == std::max_element(zb, zb + v) - zb;
    }
  }
  const double mean = nll / double(count);
  nlohmann::json j = {{"model", path},          {"ctx", ctx},       {"windows", windows},
                      {"scored_tokens", count}, {"mean_nll", mean}, {"perplexity", std::exp(mean)},
                      {"all_positions", all}};
  double kl_mean = 0, kl_median = 0, kl_p99 = 0, kl_max = 0;
  if (base) {
    std::vector<double> sorted = kls;
    std::sort(sorted.begin(), sorted.end());
    for (double k : kls) kl_mean += k / double(kls.size());
    auto pct = [&](double q) { return sorted[size_t(q * double(sorted.size() - 1) + 0.5)]; };
    kl_median = pct(0.5);
    kl_p99 = pct(0.99);
    kl_max = sorted.back();
    j["kl_base"] = *p.get("--kl-base");
    j["base_perplexity"] = std::exp(base_nll / double(count));
    j["kl_mean"] = kl_mean;
    j["kl_median"] = kl_median;
    j["kl_p99"] = kl_p99;
    j["kl_max"] = kl_max;
    j["top1_agreement"] = double(agree) / double(count);
  }
  if (p.get_flag("--json")) {
    std::printf("%s\n", j.dump(1).c_str());
  } else {
    std::printf(
        "perplexity %.4f (mean NLL %.4f nats/token) over %lld tokens in %lld windows of %lld\n",
        std::exp(mean), mean, (long long)count, (long long)windows, (long long)ctx);
    if (base)
      std::printf(
          "against %s (perplexity %.4f): KL mean %.6f, median %.6f, p99 %.6f, max %.6f nats; "
          "top-1 agreement %.2f%%\n",
          p.get("--kl-base")->c_str(), std::exp(base_nll / double(count)), kl_mean, kl_median,
          kl_p99, kl_max, 100.0 * double(agree) / double(count));
  }
  return 0;
}

}  // namespace minima::cli
