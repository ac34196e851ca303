#include "train/optimizer.hpp"

#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.hpp"

namespace minima::train {

void AdamWConfig::validate() const {
  if (!(lr > 0.0f)) fail("train: lr must be positive, got ", lr);
  if (!(min_lr >= 0.0f) || min_lr > lr) fail("train: min_lr must be in [0, lr], got ", min_lr);
  if (warmup < 0) fail("train: warmup must be >= 0, got ", warmup);
  if (steps <= 0) fail("train: steps must be positive, got ", steps);
  if (!(beta1 >= 0.0f && beta1 < 1.0f)) fail("train: beta1 must be in [0, 1), got ", beta1);
  if (!(beta2 >= 0.0f && beta2 < 1.0f)) fail("train: beta2 must be in [0, 1), got ", beta2);
  if (!(eps > 0.0f)) fail("train: eps must be positive, got ", eps);
  if (!(weight_decay >= 0.0f)) fail("train: weight_decay must be >= 0, got ", weight_decay);
  if (!(grad_clip >= 0.0f)) fail("train: grad_clip must be >= 0, got ", grad_clip);
}

double lr_at(const AdamWConfig& c, int64_t step) {
  if (step < c.warmup) return double(c.lr) * double(step + 1) / double(c.warmup);
  const int64_t span = c.steps - 1 - c.warmup;
  if (span <= 0) return c.lr;
  const double progress = std::min(1.0, double(step - c.warmup) / double(span));
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return double(c.min_lr) + (double(c.lr) - double(c.min_lr)) * cosine;
}

double grad_norm(ThreadPool& pool, const float* g, size_t n) {
  constexpr size_t kChunk = size_t(1) << 16;
  const size_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> part(chunks, 0.0);
  pool.parallel_for(int64_t(chunks), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double s = 0;
      const size_t e = std::min(n, size_t(c + 1) * kChunk);
      for (size_t i = size_t(c) * kChunk; i < e; ++i) s += double(g[i]) * double(g[i]);
      part[size_t(c)] = s;
    }
  });
  double total = 0;
  for (double s : part) total += s;
  return std::sqrt(total);
}

void adamw_update(ThreadPool& pool, const Layout& layout, const AdamWConfig& c, int64_t t,
                  double lr, float grad_scale, float* params, const float* grads, float* m,
                  float* v) {
  const float b1 = c.beta1, b2 = c.beta2;
  const float bc1 = float(1.0 - std::pow(double(b1), double(t)));
  const float bc2 = float(1.0 - std::pow(double(b2), double(t)));
  const float lrf = float(lr);
  for (const ParamTensor& p : layout.tensors) {
    const float decay = p.decay ? 1.0f - lrf * c.weight_decay : 1.0f;
    pool.parallel_for(int64_t(p.numel()), [&](int64_t i0, int64_t i1) {
      for (int64_t k = i0; k < i1; ++k) {
        const size_t i = p.offset + size_t(k);
        const float g = grads[i] * grad_scale;
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        const float mhat = m[i] / bc1, vhat = v[i] / bc2;
        params[i] = params[i] * decay - lrf * mhat / (std::sqrt(vhat) + c.eps);
      }
    });
  }
}

}  // namespace minima::train
