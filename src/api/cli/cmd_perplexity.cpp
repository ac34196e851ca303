// minima perplexity: how well a model predicts a text it is given, with the inference engine.
//
// The text (--file, tokenized with the model's tokenizer; or --shard, a token shard written by
// `minima data prepare`) is cut into non-overlapping windows of --ctx tokens; each window is run
// from an empty context and, following llama.cpp's perplexity tool, only the predictions of its
// second half are scored (each then sees at least ctx/2 tokens of context): the token at position
// j + 1 is scored against the logits at j for j in [ctx/2, ctx − 1). With --all-positions every
// position of the window is scored instead (the training loss's convention). When the vocabulary
// adds a BOS token, a window's first token is replaced by BOS, as llama.cpp does. Prints the mean
// negative log-likelihood (nats per token) and its exponential, the perplexity.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

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
    ids = tok.encode(read_file(*f), false, false);
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
  std::vector<float> logits(size_t(ctx * v));
  std::vector<int32_t> window(static_cast<size_t>(ctx));
  double nll = 0;
  int64_t count = 0;
  for (int64_t w = 0; w < windows; ++w) {
    std::copy(ids.begin() + w * ctx, ids.begin() + (w + 1) * ctx, window.begin());
    if (tok.add_bos() && tok.bos() >= 0) window[0] = tok.bos();
    session.reset();
    session.eval(window, logits.data());
    // The window's last position has no next token inside the window.
    for (int64_t j = first_scored; j + 1 < ctx; ++j) {
      const float* z = &logits[size_t(j * v)];
      double mx = z[0];
      for (int64_t i = 1; i < v; ++i) mx = std::max(mx, double(z[i]));
      double s = 0;
      for (int64_t i = 0; i < v; ++i) s += std::exp(double(z[i]) - mx);
      nll += mx + std::log(s) - double(z[window[size_t(j + 1)]]);
      ++count;
    }
  }
  const double mean = nll / double(count);
  if (p.get_flag("--json")) {
    nlohmann::json j = {{"model", path},          {"ctx", ctx},           {"windows", windows},
                        {"scored_tokens", count}, {"mean_nll", mean},     {"perplexity", std::exp(mean)},
                        {"all_positions", all}};
    std::printf("%s\n", j.dump(1).c_str());
  } else {
    std::printf("perplexity %.4f (mean NLL %.4f nats/token) over %lld tokens in %lld windows of %lld\n",
                std::exp(mean), mean, (long long)count, (long long)windows, (long long)ctx);
  }
  return 0;
}

}  // namespace minima::cli
