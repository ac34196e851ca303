#include "train/distill.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "core/quant/quant.hpp"
#include "model/forward.hpp"
#include "model/model.hpp"
#include "train/checkpoint.hpp"
#include "train/export.hpp"
#include "train/log_format.hpp"
#include "train/step.hpp"
#include "train/transformer.hpp"
#include "train/windows.hpp"

namespace minima::train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

uint64_t fnv(uint64_t h, const std::string& s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

// The student's shape as a training configuration; Error for what the training engine lacks.
ModelConfig student_config(const Model& s, int64_t n_ctx) {
  const HParams& hp = s.hparams();
  const std::string arch = s.file().get_string("general.architecture").value_or("");
  if (arch != "llama")
    fail("distill: the student must be a llama-architecture model (it is ", arch, ")");
  const LayerWeights& l0 = s.layers()[0];
  if (!l0.bq.empty() || !l0.q_norm.empty() || hp.head_dim_v != hp.head_dim ||
      hp.n_rot != hp.head_dim || hp.rope_freq_scale != 1.0f)
    fail(
        "distill: the student uses features the training engine does not have (biases, head "
        "norms, partial or scaled RoPE)");
  ModelConfig c;
  c.n_vocab = hp.n_vocab;
  c.n_embd = hp.n_embd;
  c.n_layer = hp.n_layer;
  c.n_head = hp.n_head;
  c.n_head_kv = hp.n_head_kv;
  c.n_ff = hp.n_ff;
  c.n_ctx = n_ctx;
  c.rope_base = hp.rope_base;
  c.rms_eps = hp.rms_eps;
  c.tied_output = s.file().find_tensor("output.weight") == nullptr;
  if (hp.head_dim * hp.n_head != hp.n_embd) c.head_dim_override = hp.head_dim;
  c.validate();
  return c;
}

void import_params(const GgufFile& f, const Layout& l, float* params) {
  for (const ParamTensor& p : l.tensors) {
    const GgufTensorInfo* t = f.find_tensor(p.name);
    if (t == nullptr) fail(f.name(), ": no tensor '", p.name, "'");
    if (t->ne[0] != p.ne0 || t->n_rows() != p.ne1)
      fail(f.name(), ": tensor '", p.name, "' is ", t->shape_string(), ", expected [", p.ne0, ", ",
           p.ne1, "]");
    const size_t rb = row_size(t->type, p.ne0);
    for (int64_t r = 0; r < p.ne1; ++r)
      quant::dequantize_row_ref(t->type, t->data + size_t(r) * rb,
                                params + p.offset + size_t(r * p.ne0), p.ne0);
  }
}

}  // namespace

DistillSummary distill(const DistillOptions& o, const KernelSet& ks) {
  const auto log = [&](const std::string& line) {
    if (o.log)
      o.log(line);
    else
      std::fprintf(stderr, "%s\n", line.c_str());
  };
  if (o.batch < 1 || o.n_ctx < 2) fail("distill: batch and context must be positive");
  if (o.kd.temp <= 0 || o.kd.alpha < 0 || o.kd.alpha > 1 || o.kd.top_k < 1)
    fail("distill: need --temp > 0, 0 <= --alpha <= 1, --top-k >= 1");
  o.opt.validate();
  const Model teacher = Model::load(o.teacher);
  const Model student = Model::load(o.student);
  if (teacher.hparams().n_vocab != student.hparams().n_vocab)
    fail("distill: teacher and student vocabularies differ (", teacher.hparams().n_vocab, " vs ",
         student.hparams().n_vocab, " tokens)");
  if (o.n_ctx > teacher.hparams().n_ctx_train)
    fail("distill: --ctx ", o.n_ctx, " exceeds the teacher's context ",
         teacher.hparams().n_ctx_train);
  const ModelConfig mc = student_config(student, o.n_ctx);
  const Layout layout = Layout::of(mc);
  const TokenShard shard = TokenShard::open(o.data);
  if (shard.n_vocab() != uint32_t(mc.n_vocab))
    fail("distill: ", o.data.string(), " was tokenized for ", shard.n_vocab(),
         " tokens, the models have ", mc.n_vocab);
  const int64_t t = o.n_ctx;
  if (shard.size() < uint64_t(t + 1))
    fail("distill: ", o.data.string(), " has fewer tokens than one window of ", t + 1);
  const uint64_t n_windows = (shard.size() - 1) / uint64_t(t);

  // Everything that shapes the trajectory: a checkpoint resumes only under the same.
  uint64_t hash = 0xCBF29CE484222325ull;
  hash = fnv(hash, fmt("%s|%llu|%s|%llu|%s|%llu", o.teacher.string().c_str(),
                       (unsigned long long)fs::file_size(o.teacher), o.student.string().c_str(),
                       (unsigned long long)fs::file_size(o.student), o.data.string().c_str(),
                       (unsigned long long)shard.size()));
  hash = fnv(hash, fmt("%lld|%lld|%llu|%s|%.9g|%.9g|%d|%.9g|%.9g|%lld|%lld|%.9g|%.9g|%s",
                       (long long)o.batch, (long long)t, (unsigned long long)o.seed,
                       kd_loss_name(o.kd.loss), o.kd.temp, o.kd.alpha, o.kd.top_k, o.opt.lr,
                       o.opt.min_lr, (long long)o.opt.warmup, (long long)o.opt.steps,
                       o.opt.weight_decay, o.opt.grad_clip, o.precision.c_str()));

  const int threads = o.threads > 0 ? o.threads : default_thread_count();
  ThreadPool pool(threads);
  GemmPrecision prec = GemmPrecision::F32;
  if (o.precision == "bf16" || (o.precision == "auto" && ks.sgemm.bf16 != nullptr))
    prec = GemmPrecision::BF16;
  if (prec == GemmPrecision::BF16 && ks.sgemm.bf16 == nullptr)
    fail("distill: --precision bf16 needs a CPU with AVX512_BF16");

  TrainState st;
  st.params.resize(layout.total);
  if (o.resume && !o.checkpoint_dir.empty()) {
    if (auto ck = latest_checkpoint(o.checkpoint_dir)) {
      st = load_checkpoint(*ck, hash, layout.total);
      log("resumed from " + ck->string() + fmt(" at step %lld", (long long)st.step));
    }
  }
  if (st.step == 0) {
    import_params(student.file(), layout, st.params.data());
    st.m.assign(layout.total, 0.0f);
    st.v.assign(layout.total, 0.0f);
  }

  Transformer tr(mc, layout, ks, pool, prec, o.batch);
  SessionOptions so;
  so.n_ctx = t;
  Session ts(teacher, ks, pool, so);
  const int64_t v = mc.n_vocab, k = std::min<int64_t>(o.kd.top_k, v);
  const size_t rows = size_t(o.batch * t);
  std::vector<int32_t> tokens(rows), targets(rows), buf(size_t(t + 1)), top_ids(rows * size_t(k));
  std::vector<float> top_lp(rows * size_t(k)), tail(rows), tlogits(size_t(t * v)), grads;
  const KdConfig kd = o.kd;
  tr.set_row_loss([&](int64_t row, float* z, int64_t vv, int32_t target, float scale) {
    return kd_row(z, vv, &top_ids[size_t(row * k)], &top_lp[size_t(row * k)], int(k),
                  tail[size_t(row)], target, kd, scale);
  });
  WindowOrder order(n_windows, o.seed);
  log(
      fmt("distill: student %.3fM parameters (%lld layers, %lld/%lld heads, n_ff %lld, n_embd "
          "%lld), loss %s τ=%.2f α=%.2f top-%lld, %lld × %lld tokens per step, %d threads",
          double(layout.total) / 1e6, (long long)mc.n_layer, (long long)mc.n_head,
          (long long)mc.n_head_kv, (long long)mc.n_ff, (long long)mc.n_embd, kd_loss_name(kd.loss),
          kd.temp, kd.alpha, (long long)k, (long long)o.batch, (long long)t, threads));

  DistillSummary sum;
  const int64_t last = o.stop_after >= 0 ? std::min(o.stop_after, o.opt.steps) : o.opt.steps;
  const bool tty = o.progress_bar && !o.log && isatty(STDERR_FILENO);
  const auto t0 = Clock::now();
  const int64_t first = st.step;
  while (st.step < last) {
    for (int64_t r = 0; r < o.batch; ++r) {
      const size_t at = size_t(r * t);
      fill_window(shard, order.window(uint64_t(st.step * o.batch + r)), t, buf, &tokens[at],
                  &targets[at]);
      ts.reset();
      ts.eval(std::span(&tokens[at], size_t(t)), tlogits.data());
      // A softmax over the vocabulary and a partial sort per position: on one thread ~15% of a
      // step (split, distillation from minima-mini ran 7–10% more tokens/s). Rows are
      // independent and computed alike on any thread, so the split changes no bits (same
      // student file, byte for byte).
      pool.parallel_for(t, [&](int64_t j0, int64_t j1) {
        for (int64_t j = j0; j < j1; ++j)
          teacher_top_k(&tlogits[size_t(j * v)], v, kd.temp, int(k),
                        &top_ids[(at + size_t(j)) * size_t(k)],
                        &top_lp[(at + size_t(j)) * size_t(k)], &tail[at + size_t(j)]);
      });
    }
    const StepStats s = optimizer_step(tr, layout, o.opt, pool, st, grads, tokens, targets, 1);
    if (!std::isfinite(s.loss))
      fail("distill: the loss became ", s.loss, " at step ", st.step, " (lower the lr)");
    sum.losses.push_back(s.loss);
    const double el = std::chrono::duration<double>(Clock::now() - t0).count();
    const int64_t done = st.step - first;
    const std::string line =
        fmt("step %lld/%lld  loss %.4f  lr %.2e  |g| %.3f  %.0f tok/s  ETA %.0fs",
            (long long)st.step, (long long)o.opt.steps, s.loss, s.lr, s.grad_norm,
            double(done * o.batch * t) / std::max(el, 1e-9),
            el / double(done) * double(last - st.step));
    if (tty) {
      std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
      std::fflush(stderr);
    } else if (st.step % 10 == 0 || st.step == last) {
      log(line);
    }
    if (o.checkpoint_every > 0 && st.step % o.checkpoint_every == 0 && st.step < last &&
        !o.checkpoint_dir.empty())
      save_checkpoint(o.checkpoint_dir, st, hash);
  }
  if (tty) std::fprintf(stderr, "\n");
  sum.steps_done = st.step - first;
  sum.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!o.checkpoint_dir.empty() && sum.steps_done > 0)
    log("checkpoint: " + save_checkpoint(o.checkpoint_dir, st, hash).string());
  if (st.step >= o.opt.steps) {
    const std::string name =
        student.file().get_string("general.name").value_or("student") + " (distilled)";
    ModelConfig ec = mc;  // the student keeps its own context length, not the training one
    ec.n_ctx = std::max(student.hparams().n_ctx_train, mc.n_ctx);
    export_gguf(ec, layout, st.params.data(), student.file(), {name, o.out_type}, o.out);
    sum.exported = true;
    log("wrote " + o.out.string());
  }
  return sum;
}

}  // namespace minima::train
