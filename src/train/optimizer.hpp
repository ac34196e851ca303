// AdamW with decoupled weight decay, linear warmup + cosine learning-rate schedule, and global
// gradient-norm clipping, over the trainer's single parameter buffer. Every reduction (the norm)
// is over fixed chunks added in order, so results do not depend on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/threads.hpp"
#include "train/params.hpp"

namespace minima::train {

struct AdamWConfig {
  float lr = 1e-3f;      // peak learning rate
  float min_lr = 1e-4f;  // reached at the last step
  int64_t warmup = 100;  // steps of linear warmup from 0
  int64_t steps = 1000;  // total optimizer steps (cosine decay ends here)
  float beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f;
  float weight_decay = 0.1f;  // applied to matrices only (ParamTensor::decay)
  float grad_clip = 1.0f;     // max global L2 norm; 0 = no clipping

  void validate() const;  // Error naming the first bad field
};

// Learning rate of optimizer step `step` (0-based): warmup to lr over `warmup` steps, then cosine
// from lr to min_lr at step steps − 1.
double lr_at(const AdamWConfig& c, int64_t step);

// L2 norm of g[0, n): chunk sums in double, added in chunk order.
double grad_norm(ThreadPool& pool, const float* g, size_t n);

// One update at optimizer step t (1-based, for the bias corrections), gradients multiplied by
// grad_scale first (the clipping factor). Decoupled decay as in PyTorch's AdamW:
// p ← p·(1 − lr·wd), then p ← p − lr·m̂/(sqrt(v̂) + eps).
void adamw_update(ThreadPool& pool, const Layout& layout, const AdamWConfig& c, int64_t t,
                  double lr, float grad_scale, float* params, const float* grads, float* m,
                  float* v);

}  // namespace minima::train
