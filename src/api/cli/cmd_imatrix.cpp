// minima imatrix: an importance matrix (model/imatrix.hpp) from calibration text, for
// `minima quantize --imatrix`. The text is cut into windows of --ctx tokens like minima
// perplexity (each run from an empty context, first token replaced by BOS where the vocabulary
// adds one); every position of every window contributes to the means. Also prints the windows'
// perplexity, as a check that the text and model are what was meant.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "model/forward.hpp"
#include "model/imatrix.hpp"
#include "runtime/tokenizer/tokenizer.hpp"

namespace minima::cli {

int cmd_imatrix(int argc, char** argv, int first) {
  ArgParser p("imatrix",
              "Importance matrix (mean squared input activations) from calibration text.");
  p.opt("--model", "-m", "FILE", "GGUF model (F32/F16/BF16 preferred: the quantizer's source)")
      .opt("--file", "-f", "FILE", "calibration text")
      .opt("--out", "-o", "FILE", "output importance matrix (llama.cpp's imatrix.dat layout)")
      .opt("--ctx", "-c", "N",
           "window length in tokens (default 512, at most the training context)")
      .opt("--max-windows", "", "N", "use at most N windows (default: all)");
  add_compute_options(p);
  add_load_options(p);
  if (!p.parse(argc, argv, first)) return 0;
  const std::string path = model_path(p), text_path = p.required("--file"),
                    out = p.required("--out");
  Compute c = make_compute(p);
  const Model model = Model::load(path, file_load(p));
  const Tokenizer tok = Tokenizer::from_gguf(model.file());
  const std::vector<int32_t> ids = tok.encode(read_file(text_path), true, false);
  const int64_t ctx = p.get_int("--ctx", std::min<int64_t>(512, model.hparams().n_ctx_train), 2,
                                model.hparams().n_ctx_train);
  const int64_t windows = std::min<int64_t>(int64_t(ids.size()) / ctx,
                                            p.get_int("--max-windows", INT64_MAX, 1, INT64_MAX));
  if (windows < 1)
    fail("minima imatrix: ", text_path, " is ", ids.size(), " tokens, fewer than one window of ",
         ctx, " (give more text or a smaller --ctx)");

  SessionOptions so;
  so.n_ctx = ctx;
  Session session(model, *c.kernels, *c.pool, so);
  ImatrixCollector collector(model);
  session.set_observer(&collector);
  const int64_t v = model.hparams().n_vocab;
  std::vector<float> logits(size_t(ctx * v));
  std::vector<int32_t> window(static_cast<size_t>(ctx));
  double nll = 0;
  int64_t scored = 0;
  const bool tty = isatty(STDERR_FILENO) != 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t w = 0; w < windows; ++w) {
    std::copy(ids.begin() + w * ctx, ids.begin() + (w + 1) * ctx, window.begin());
    if (tok.add_bos() && tok.bos() >= 0) window[0] = tok.bos();
    session.reset();
    session.eval(window, logits.data());
    for (int64_t j = 0; j + 1 < ctx; ++j) {
      const float* z = &logits[size_t(j * v)];
      double mx = z[0], s = 0;
      for (int64_t i = 1; i < v; ++i) mx = std::max(mx, double(z[i]));
      for (int64_t i = 0; i < v; ++i) s += std::exp(double(z[i]) - mx);
      nll += mx + std::log(s) - double(z[window[size_t(j + 1)]]);
      ++scored;
    }
    if (tty || w + 1 == windows)
      std::fprintf(stderr, "%swindow %lld/%lld, perplexity so far %.4f%s", tty ? "\r" : "",
                   (long long)(w + 1), (long long)windows, std::exp(nll / double(scored)),
                   tty && w + 1 < windows ? "" : "\n");
  }
  const ImportanceMatrix m = collector.result();
  write_imatrix(out, m, int32_t(windows), text_path);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %s: %zu tensors from %lld windows of %lld tokens in %.1f s\n", out.c_str(),
              m.size(), (long long)windows, (long long)ctx, secs);
  return 0;
}

}  // namespace minima::cli
