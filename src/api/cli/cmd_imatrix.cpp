// minima imatrix: an importance matrix (model/imatrix.hpp) from calibration text, for
// `minima quantize --imatrix`. The text is cut into windows of --ctx tokens like minima
// perplexity (each run from an empty context, first token replaced by BOS where the vocabulary
// adds one); every position of every window contributes to the means. Also prints the windows'
// perplexity, as a check that the text and model are what was meant.
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "model/imatrix.hpp"
#include "runtime/eval/text_eval.hpp"
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
  ImatrixCollector collector(model);
  TextEvalOptions eo;
  eo.ctx = ctx;
  eo.max_windows = p.get_int("--max-windows", INT64_MAX, 1, INT64_MAX);
  eo.all_positions = true;
  eo.bos = tok.add_bos() && tok.bos() >= 0 ? tok.bos() : -1;
  eo.observer = &collector;
  const bool tty = isatty(STDERR_FILENO) != 0;
  const int64_t windows = std::min<int64_t>(int64_t(ids.size()) / ctx, eo.max_windows);
  eo.progress = [&](int64_t w, double ppl) {
    if (tty || w == windows)
      std::fprintf(stderr, "%swindow %lld/%lld, perplexity so far %.4f%s", tty ? "\r" : "",
                   (long long)w, (long long)windows, ppl, tty && w < windows ? "" : "\n");
  };
  if (windows < 1)
    fail("minima imatrix: ", text_path, " is ", ids.size(), " tokens, fewer than one window of ",
         ctx, " (give more text or a smaller --ctx)");
  const auto t0 = std::chrono::steady_clock::now();
  evaluate_text(model, nullptr, ids, eo, *c.kernels, *c.pool);
  const ImportanceMatrix m = collector.result();
  write_imatrix(out, m, int32_t(windows), text_path);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %s: %zu tensors from %lld windows of %lld tokens in %.1f s\n", out.c_str(),
              m.size(), (long long)windows, (long long)ctx, secs);
  return 0;
}

}  // namespace minima::cli
