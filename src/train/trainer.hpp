// The training loop behind `minima train`: a recipe (train/recipe.hpp), token shards
// (train/shard.hpp), a fresh or resumed state, optimizer steps with progress, periodic evaluation
// and checkpoints, and the final GGUF export.
//
// Data order: the training shard is cut into W windows of n_ctx + 1 tokens that overlap by one
// (window w: tokens [w·n_ctx, (w+1)·n_ctx], inputs its first n_ctx, targets its last n_ctx).
// Sequence s of the run (s = (step·accum + micro)·batch + row) is window perm_e[s mod W] of epoch
// e = s / W, perm_e a shuffle that depends only on (seed, e): the batch of any step is known
// without replaying earlier steps, which is what makes resume bit-identical.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/kernels/kernels.hpp"
#include "train/recipe.hpp"
#include "train/step.hpp"

namespace minima::train {

struct TrainOptions {
  bool resume = false;      // continue from the newest checkpoint of the recipe's checkpoint_dir
  int64_t stop_after = -1;  // stop (checkpoint, no export) once this many steps are done; -1: all
  int threads = 0;          // overrides the recipe when > 0
  bool progress_bar = true; // redraw one line (when stderr is a terminal); else log lines
  std::function<void(const std::string&)> log;  // one line per log event (default: stderr)
};

struct TrainSummary {
  int64_t steps_done = 0;          // in this run
  int64_t tokens_seen = 0;         // over the whole trajectory (resumed runs included)
  std::vector<double> losses;      // training loss of every step done in this run
  double last_eval_loss = -1;      // -1 when never evaluated
  double seconds = 0;              // wall time of this run's steps
  double matmul_gflops = 0;        // achieved in the matmuls of this run
  double overall_gflops = 0;       // model flops of this run over its wall time
  uint64_t n_params = 0;
  std::string precision;           // "f32" | "bf16"
  bool exported = false;
};

TrainSummary train(const Recipe& recipe, const KernelSet& ks, const TrainOptions& opt);

}  // namespace minima::train
