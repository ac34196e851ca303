#include "train/trainer.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "model/gguf/gguf.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "train/checkpoint.hpp"
#include "train/export.hpp"
#include "train/log_format.hpp"
#include "train/rng.hpp"
#include "train/shard.hpp"
#include "train/windows.hpp"

namespace minima::train {
namespace {

namespace fs = std::filesystem;

using Clock = std::chrono::steady_clock;

std::string duration(double s) {
  const long long t = std::llround(s);
  return t >= 3600 ? fmt("%lldh%02lldm", t / 3600, t / 60 % 60)
                   : fmt("%lldm%02llds", t / 60, t % 60);
}

}  // namespace

TrainSummary train(const Recipe& recipe, const KernelSet& ks, const TrainOptions& opt) {
  const auto log = [&](const std::string& line) {
    if (opt.log) {
      opt.log(line);
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  };
  const GgufFile tok_file = GgufFile::open(recipe.tokenizer);
  const Tokenizer tokenizer = Tokenizer::from_gguf(tok_file);
  ModelConfig mc = recipe.model;
  mc.n_vocab = tokenizer.n_vocab();
  const Layout layout = Layout::of(mc);
  const TokenShard shard = TokenShard::open(recipe.train_data);
  if (shard.n_vocab() != uint32_t(mc.n_vocab))
    fail(recipe.train_data.string(), ": tokenized for a vocabulary of ", shard.n_vocab(),
         " tokens, the tokenizer ", recipe.tokenizer.string(), " has ", mc.n_vocab,
         " (prepare the data with this tokenizer)");
  const int64_t t = mc.n_ctx;
  if (shard.size() < uint64_t(t + 1))
    fail(recipe.train_data.string(), ": ", shard.size(), " tokens, fewer than one window of ",
         t + 1);
  const uint64_t n_windows = (shard.size() - 1) / uint64_t(t);
  std::optional<TokenShard> eval_shard;
  if (!recipe.eval_data.empty() && recipe.eval_every > 0) {
    eval_shard.emplace(TokenShard::open(recipe.eval_data));
    if (eval_shard->n_vocab() != uint32_t(mc.n_vocab))
      fail(recipe.eval_data.string(), ": tokenized for another vocabulary");
    if (eval_shard->size() < uint64_t(t + 1))
      fail(recipe.eval_data.string(), ": fewer tokens than one window of ", t + 1);
  }

  GemmPrecision prec = GemmPrecision::F32;
  if (recipe.precision == "bf16" || (recipe.precision == "auto" && ks.sgemm.bf16 != nullptr))
    prec = GemmPrecision::BF16;
  if (prec == GemmPrecision::BF16 && ks.sgemm.bf16 == nullptr)
    fail(recipe.source.string(), ": precision \"bf16\" needs a CPU with AVX512_BF16 (this one has ",
         isa_name(ks.isa), " without it); use \"auto\" or \"f32\"");
  const int threads = opt.threads > 0      ? opt.threads
                      : recipe.threads > 0 ? recipe.threads
                                           : default_thread_count();
  ThreadPool pool(threads);
  Transformer tr(mc, layout, ks, pool, prec, recipe.batch);

  const uint64_t hash = recipe.trajectory_hash() ^ uint64_t(mc.n_vocab) * 0x9E3779B97F4A7C15ull;
  TrainState st;
  if (opt.resume) {
    if (recipe.checkpoint_dir.empty())
      fail("--resume: the recipe ", recipe.source.string(), " has no checkpoint_dir");
    const auto latest = latest_checkpoint(recipe.checkpoint_dir);
    if (!latest) fail("--resume: no checkpoint in ", recipe.checkpoint_dir.string());
    st = load_checkpoint(*latest, hash, layout.total);
    log(fmt("resumed from %s at step %lld", latest->string().c_str(), (long long)st.step));
  } else {
    st.params.resize(layout.total);
    st.m.assign(layout.total, 0.0f);
    st.v.assign(layout.total, 0.0f);
    init_params(layout, mc, recipe.seed, st.params.data());
  }

  TrainSummary sum;
  sum.n_params = layout.total;
  sum.precision = prec == GemmPrecision::BF16 ? "bf16" : "f32";
  const int64_t per_step = recipe.accum * recipe.batch * t;
  log(
      fmt("model: %.2fM parameters (n_embd %lld, n_layer %lld, n_head %lld/%lld, n_ff %lld, "
          "vocab %lld, ctx %lld), %s matmuls, %d threads; data: %llu tokens (%llu windows), "
          "%lld tokens per step",
          double(layout.total) / 1e6, (long long)mc.n_embd, (long long)mc.n_layer,
          (long long)mc.n_head, (long long)mc.n_head_kv, (long long)mc.n_ff, (long long)mc.n_vocab,
          (long long)t, sum.precision.c_str(), threads, (unsigned long long)shard.size(),
          (unsigned long long)n_windows, (long long)per_step));

  WindowOrder order(n_windows, recipe.seed);
  const size_t micro = size_t(recipe.batch * t);
  std::vector<int32_t> tokens(micro * size_t(recipe.accum)), targets(tokens.size()),
      buf(size_t(t + 1));
  std::vector<float> grads;
  const auto evaluate = [&] {
    const uint64_t ew = (eval_shard->size() - 1) / uint64_t(t);
    const uint64_t n = std::min<uint64_t>(ew, uint64_t(recipe.eval_batches * recipe.batch));
    double loss = 0;
    int64_t count = 0;
    std::vector<int32_t> et(micro), eg(micro);
    for (uint64_t w0 = 0; w0 < n; w0 += uint64_t(recipe.batch)) {
      for (int64_t r = 0; r < recipe.batch; ++r) {
        if (w0 + uint64_t(r) < n) {
          fill_window(*eval_shard, w0 + uint64_t(r), t, buf, &et[size_t(r * t)],
                      &eg[size_t(r * t)]);
        } else {  // a last partial batch: unscored padding rows
          std::fill_n(&et[size_t(r * t)], t, 0);
          std::fill_n(&eg[size_t(r * t)], t, -1);
        }
      }
      int64_t scored = 0;
      loss += tr.forward_loss(st.params.data(), et.data(), eg.data(), &scored);
      count += scored;
    }
    return loss / double(std::max<int64_t>(count, 1));
  };

  // Every step's numbers, appended (a resumed run continues the file): the loss curve of a run,
  // exact to the last bit (%.17g), for comparing runs.
  std::FILE* csv = nullptr;
  if (!recipe.checkpoint_dir.empty()) {
    fs::create_directories(recipe.checkpoint_dir);
    const fs::path p = recipe.checkpoint_dir / "train_log.csv";
    const bool fresh = !opt.resume || !fs::exists(p);
    csv = std::fopen(p.c_str(), fresh ? "w" : "a");
    if (csv == nullptr) fail("train: cannot write ", p.string());
    if (fresh) std::fprintf(csv, "step,loss,lr,grad_norm,tokens_per_s,eval_loss\n");
  }
  struct CsvCloser {
    std::FILE* f;
    ~CsvCloser() {
      if (f) std::fclose(f);
    }
  } csv_closer{csv};
  const int64_t last =
      opt.stop_after >= 0 ? std::min(opt.stop_after, recipe.opt.steps) : recipe.opt.steps;
  const bool tty = opt.progress_bar && !opt.log && isatty(STDERR_FILENO);
  const auto t_start = Clock::now();
  const double mm0 = tr.matmul_seconds();
  const int64_t first = st.step;
  double smooth = -1;
  while (st.step < last) {
    for (int64_t a = 0; a < recipe.accum; ++a) {
      for (int64_t r = 0; r < recipe.batch; ++r) {
        const uint64_t seq = uint64_t((st.step * recipe.accum + a) * recipe.batch + r);
        const size_t at = size_t(a) * micro + size_t(r * t);
        fill_window(shard, order.window(seq), t, buf, &tokens[at], &targets[at]);
      }
    }
    const StepStats s =
        optimizer_step(tr, layout, recipe.opt, pool, st, grads, tokens, targets, recipe.accum);
    if (!std::isfinite(s.loss))
      fail("train: the loss became ", s.loss, " at step ", st.step,
           " (lower lr or raise warmup); the last checkpoint is intact");
    sum.losses.push_back(s.loss);
    smooth = smooth < 0 ? s.loss : 0.9 * smooth + 0.1 * s.loss;
    const double el = std::chrono::duration<double>(Clock::now() - t_start).count();
    const int64_t done = st.step - first;
    const double tps = double(done * per_step) / std::max(el, 1e-9);
    const double eta = el / double(done) * double(last - st.step);
    const std::string line =
        fmt("step %lld/%lld  loss %.4f (avg %.4f)  lr %.2e  |g| %.3f  %.0f tok/s  ETA %s",
            (long long)st.step, (long long)recipe.opt.steps, s.loss, smooth, s.lr, s.grad_norm, tps,
            duration(eta).c_str());
    if (tty) {
      const int width = 24,
                filled = int(double(width) * double(st.step) / double(recipe.opt.steps));
      std::fprintf(stderr, "\r[%s%s] %s\x1b[K", std::string(size_t(filled), '=').c_str(),
                   std::string(size_t(width - filled), ' ').c_str(), line.c_str());
      std::fflush(stderr);
    }
    if (!tty && (st.step % recipe.log_every == 0 || st.step == last)) log(line);
    double eval_loss = -1;
    if (eval_shard && st.step % recipe.eval_every == 0) {
      eval_loss = sum.last_eval_loss = evaluate();
      if (tty) std::fprintf(stderr, "\n");
      log(fmt("eval at step %lld: loss %.4f (perplexity %.2f)", (long long)st.step,
              sum.last_eval_loss, std::exp(sum.last_eval_loss)));
    }
    if (csv) {
      std::fprintf(csv, "%lld,%.17g,%.9g,%.9g,%.1f,", (long long)st.step, s.loss, s.lr, s.grad_norm,
                   tps);
      if (eval_loss >= 0) std::fprintf(csv, "%.17g", eval_loss);
      std::fprintf(csv, "\n");
      std::fflush(csv);
    }
    if (recipe.checkpoint_every > 0 && st.step % recipe.checkpoint_every == 0 && st.step < last)
      save_checkpoint(recipe.checkpoint_dir, st, hash);
  }
  if (tty) std::fprintf(stderr, "\n");
  sum.steps_done = st.step - first;
  sum.tokens_seen = st.step * per_step;
  sum.seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  const double flops = 3.0 * tr.forward_flops_per_token() * double(sum.steps_done * per_step);
  const double mm = tr.matmul_seconds() - mm0;
  sum.matmul_gflops = mm > 0 ? flops / mm / 1e9 : 0;
  sum.overall_gflops = sum.seconds > 0 ? flops / sum.seconds / 1e9 : 0;
  if (sum.steps_done > 0)
    log(
        fmt("%lld steps in %s: %.0f tokens/s, %.1f GFLOP/s overall, %.1f GFLOP/s in the matmuls "
            "(%.0f%% of the time)",
            (long long)sum.steps_done, duration(sum.seconds).c_str(),
            double(sum.steps_done * per_step) / sum.seconds, sum.overall_gflops, sum.matmul_gflops,
            100.0 * mm / sum.seconds));
  if (!recipe.checkpoint_dir.empty() && sum.steps_done > 0)
    log("checkpoint: " + save_checkpoint(recipe.checkpoint_dir, st, hash).string());
  if (st.step >= recipe.opt.steps) {
    if (eval_shard && (sum.last_eval_loss < 0 || st.step % recipe.eval_every != 0)) {
      sum.last_eval_loss = evaluate();
      log(fmt("final eval: loss %.4f (perplexity %.2f)", sum.last_eval_loss,
              std::exp(sum.last_eval_loss)));
    }
    export_gguf(mc, layout, st.params.data(), tok_file, {recipe.name, recipe.out_type}, recipe.out);
    sum.exported = true;
    log("wrote " + recipe.out.string());
  }
  return sum;
}

}  // namespace minima::train
