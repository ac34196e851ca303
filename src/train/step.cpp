#include "train/step.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace minima::train {

StepStats optimizer_step(Transformer& tr, const Layout& layout, const AdamWConfig& opt,
                         ThreadPool& pool, TrainState& state, std::vector<float>& grads,
                         std::span<const int32_t> tokens, std::span<const int32_t> targets,
                         int64_t accum) {
  const size_t micro = size_t(tr.batch() * tr.seq());
  if (tokens.size() != micro * size_t(accum) || targets.size() != tokens.size())
    fail("train step: expected ", micro * size_t(accum), " tokens and targets, got ",
         tokens.size(), " and ", targets.size());
  const int64_t scored = std::count_if(targets.begin(), targets.end(), [](int32_t t) { return t >= 0; });
  if (scored == 0) fail("train step: no position has a target");
  grads.assign(state.params.size(), 0.0f);
  const float scale = 1.0f / float(scored);
  StepStats st;
  double sum = 0;
  for (int64_t a = 0; a < accum; ++a) {
    int64_t n = 0;
    sum += tr.forward_backward(state.params.data(), grads.data(), tokens.data() + size_t(a) * micro,
                               targets.data() + size_t(a) * micro, scale, &n);
  }
  st.loss = sum / double(scored);
  st.scored = scored;
  st.grad_norm = grad_norm(pool, grads.data(), grads.size());
  // Clipping as torch.nn.utils.clip_grad_norm_ does it (the 1e-6 keeps a zero norm finite).
  const float clip = opt.grad_clip > 0.0f && st.grad_norm > double(opt.grad_clip)
                         ? float(double(opt.grad_clip) / (st.grad_norm + 1e-6))
                         : 1.0f;
  st.lr = lr_at(opt, state.step);
  adamw_update(pool, layout, opt, state.step + 1, st.lr, clip, state.params.data(), grads.data(),
               state.m.data(), state.v.data());
  ++state.step;
  return st;
}

}  // namespace minima::train
