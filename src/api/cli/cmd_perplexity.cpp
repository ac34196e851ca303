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
#include "runtime/eval/text_eval.hpp"
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
  TextEvalOptions eo;
  eo.ctx = p.get_int("--ctx", model.hparams().n_ctx_train, 2, 1 << 20);
  eo.max_windows = p.get_int("--max-windows", INT64_MAX, 1, INT64_MAX);
  eo.all_positions = p.get_flag("--all-positions");
  eo.bos = tok.add_bos() && tok.bos() >= 0 ? tok.bos() : -1;
  std::optional<Model> base;
  if (auto b = p.get("--kl-base")) {
    base.emplace(Model::load(*b, file_load(p)));
    if (p.has("--file") &&
        Tokenizer::from_gguf(base->file()).encode(read_file(*p.get("--file")), true, false) != ids)
      fail("minima perplexity: --kl-base ", *b, " tokenizes the text differently from ", path);
  }
  const TextEval r = evaluate_text(model, base ? &*base : nullptr, ids, eo, *c.kernels, *c.pool);
  nlohmann::json j = {{"model", path},
                      {"ctx", eo.ctx},
                      {"windows", r.windows},
                      {"scored_tokens", r.scored},
                      {"mean_nll", r.mean_nll},
                      {"perplexity", r.perplexity},
                      {"all_positions", eo.all_positions}};
  if (r.has_base) {
    j["kl_base"] = *p.get("--kl-base");
    j["base_perplexity"] = r.base_perplexity;
    j["kl_mean"] = r.kl_mean;
    j["kl_median"] = r.kl_median;
    j["kl_p99"] = r.kl_p99;
    j["kl_max"] = r.kl_max;
    j["top1_agreement"] = r.top1_agreement;
  }
  if (p.get_flag("--json")) {
    std::printf("%s\n", j.dump(1).c_str());
  } else {
    std::printf(
        "perplexity %.4f (mean NLL %.4f nats/token) over %lld tokens in %lld windows of %lld\n",
        r.perplexity, r.mean_nll, (long long)r.scored, (long long)r.windows, (long long)eo.ctx);
    if (r.has_base)
      std::printf(
          "against %s (perplexity %.4f): KL mean %.6f, median %.6f, p99 %.6f, max %.6f nats; "
          "top-1 agreement %.2f%%\n",
          p.get("--kl-base")->c_str(), r.base_perplexity, r.kl_mean, r.kl_median, r.kl_p99,
          r.kl_max, 100.0 * r.top1_agreement);
  }
  return 0;
}

}  // namespace minima::cli
