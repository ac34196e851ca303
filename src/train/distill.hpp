// Knowledge distillation (`minima distill`): train a student GGUF (llama architecture, e.g. one
// written by `minima prune`) on a teacher's next-token distributions. The teacher runs in the
// inference engine on each batch (its top-k log-probabilities at temperature τ are kept per
// position, train/kd.hpp), the student in the training engine (train/transformer.hpp) with the
// KD loss in place of cross-entropy, AdamW with warmup + cosine (train/optimizer.hpp).
//
// Data order, checkpoints and resume are the trainer's: the batch of step s is a function of
// (seed, s) (train/windows.hpp), checkpoints hold parameters, moments and the step, and carry a
// fingerprint of everything that shapes the run, so `--resume` continues bit for bit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/kernels/kernels.hpp"
#include "train/kd.hpp"
#include "train/optimizer.hpp"

namespace minima::train {

struct DistillOptions {
  std::filesystem::path teacher, student, data, out, checkpoint_dir;
  int64_t batch = 8, n_ctx = 128, checkpoint_every = 0;
  AdamWConfig opt;  // steps, lr, min_lr, warmup, weight_decay, ...
  KdConfig kd;
  uint64_t seed = 1;
  int threads = 0;
  std::string precision = "auto";  // f32 | bf16 | auto (bf16 where the CPU has it)
  std::string out_type = "F32";    // F32 | F16 | Q8_0
  bool resume = false;
  int64_t stop_after = -1;  // stop (checkpoint, no export) after this many steps
  bool progress_bar = true;
  std::function<void(const std::string&)> log;  // default: stderr
};

struct DistillSummary {
  int64_t steps_done = 0;
  std::vector<double> losses;  // of this run's steps
  double seconds = 0;
  bool exported = false;
};

DistillSummary distill(const DistillOptions& o, const KernelSet& ks);

}  // namespace minima::train
