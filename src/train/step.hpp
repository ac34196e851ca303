// One optimizer step: gradients of the mean loss over every scored position of `accum`
// micro-batches (accumulated in the gradient buffer), global-norm clipping, AdamW.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/threads.hpp"
#include "train/optimizer.hpp"
#include "train/params.hpp"
#include "train/transformer.hpp"

namespace minima::train {

// Everything a resumed run needs besides the configuration: parameters, AdamW moments and the
// number of optimizer steps taken (the data order and the learning rate are functions of it).
struct TrainState {
  std::vector<float> params, m, v;
  int64_t step = 0;
};

struct StepStats {
  double loss = 0;       // mean over scored positions
  double grad_norm = 0;  // before clipping
  double lr = 0;
  int64_t scored = 0;
};

// tokens, targets: [accum][tr.batch()][tr.seq()]. grads: scratch of state.params.size() floats.
// Advances state.step by one.
StepStats optimizer_step(Transformer& tr, const Layout& layout, const AdamWConfig& opt,
                         ThreadPool& pool, TrainState& state, std::vector<float>& grads,
                         std::span<const int32_t> tokens, std::span<const int32_t> targets,
                         int64_t accum);

}  // namespace minima::train
