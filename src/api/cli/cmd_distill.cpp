// minima distill: train a student on a teacher's output distributions (train/distill.hpp).
#include <cstdio>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "train/distill.hpp"

namespace minima::cli {

int cmd_distill(int argc, char** argv, int first) {
  ArgParser p("distill", "Distill a teacher model into a (pruned) student with KD losses.");
  p.opt("--teacher", "", "FILE", "teacher GGUF (any architecture minima runs)")
      .opt("--student", "", "FILE", "student GGUF (llama architecture, e.g. from minima prune)")
      .opt("--data", "", "FILE", "token shard (minima data prepare's train.tok)")
      .opt("--out", "-o", "FILE", "distilled student GGUF")
      .opt("--steps", "", "N", "optimizer steps (default 200)")
      .opt("--batch", "", "N", "sequences per step (default 8)")
      .opt("--ctx", "-c", "N", "sequence length (default 128)")
      .opt("--loss", "", "L", "fkl (default), rkl or mixed")
      .opt("--temp", "", "T", "distillation temperature (default 1)")
      .opt("--alpha", "", "A", "weight of the hard-label cross-entropy, 0..1 (default 0)")
      .opt("--top-k", "", "K", "teacher tokens kept per position (default 64)")
      .opt("--lr", "", "LR", "peak learning rate (default 1e-3)")
      .opt("--min-lr", "", "LR", "final learning rate (default lr/10)")
      .opt("--warmup", "", "N", "warmup steps (default steps/20)")
      .opt("--weight-decay", "", "W", "AdamW weight decay (default 0.1)")
      .opt("--seed", "", "N", "data order seed (default 1)")
      .opt("--precision", "", "P", "matmuls: auto (default), f32 or bf16")
      .opt("--type", "", "T", "output weight type: F32 (default), F16 or Q8_0")
      .opt("--checkpoint-dir", "", "DIR", "where checkpoints go (resume needs it)")
      .opt("--checkpoint-every", "", "N", "checkpoint every N steps (default 0: only at the end)")
      .opt("--stop-after", "", "N", "stop after N steps (checkpoint, no export)")
      .flag("--resume", "continue from the newest checkpoint in --checkpoint-dir")
      .flag("--no-progress", "log lines instead of a redrawn progress line");
  add_compute_options(p);
  if (!p.parse(argc, argv, first)) return 0;
  train::DistillOptions o;
  o.teacher = p.required("--teacher");
  o.student = p.required("--student");
  o.data = p.required("--data");
  o.out = p.required("--out");
  o.opt.steps = p.get_int("--steps", 200, 1, INT64_MAX / 2);
  o.batch = p.get_int("--batch", 8, 1, 4096);
  o.n_ctx = p.get_int("--ctx", 128, 2, 1 << 20);
  o.kd.loss = train::parse_kd_loss(p.get("--loss").value_or("fkl"));
  o.kd.temp = float(p.get_float("--temp", 1.0));
  o.kd.alpha = float(p.get_float("--alpha", 0.0));
  o.kd.top_k = int(p.get_int("--top-k", 64, 1, 1 << 20));
  o.opt.lr = float(p.get_float("--lr", 1e-3));
  o.opt.min_lr = float(p.get_float("--min-lr", double(o.opt.lr) / 10));
  o.opt.warmup = p.get_int("--warmup", o.opt.steps / 20, 0, o.opt.steps);
  o.opt.weight_decay = float(p.get_float("--weight-decay", 0.1));
  o.seed = uint64_t(p.get_int("--seed", 1, 0, INT64_MAX));
  o.precision = p.get("--precision").value_or("auto");
  if (o.precision != "auto" && o.precision != "f32" && o.precision != "bf16")
    fail("minima distill: --precision must be auto, f32 or bf16");
  o.out_type = p.get("--type").value_or("F32");
  if (auto d = p.get("--checkpoint-dir")) o.checkpoint_dir = *d;
  o.checkpoint_every = p.get_int("--checkpoint-every", 0, 0, INT64_MAX);
  o.stop_after = p.get_int("--stop-after", -1, 0, INT64_MAX);
  o.resume = p.get_flag("--resume");
  if (o.resume && o.checkpoint_dir.empty()) fail("minima distill: --resume needs --checkpoint-dir");
  o.progress_bar = !p.get_flag("--no-progress");
  Compute c = make_compute(p);
  o.threads = c.pool->size();
  const auto s = train::distill(o, *c.kernels);
  std::printf("%lld steps in %.1f s%s\n", (long long)s.steps_done, s.seconds,
              s.exported ? (", wrote " + o.out.string()).c_str() : " (no export: not finished)");
  return 0;
}

}  // namespace minima::cli
