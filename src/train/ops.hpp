// Forward and backward of the element-wise and row-wise ops of the llama block, for training.
// Templated on the float type: the trainer runs them in float, the gradient tests run the same code
// in double for finite differences. Row-parallel callers split rows; every row's arithmetic is
// fixed, so results do not depend on the split.
//
// Shapes: N rows (tokens), D = n_embd, F = n_ff, hd = head_dim, H heads of a row laid out one
// after another ([N, H·hd]).
#pragma once

#include <cmath>
#include <cstdint>

namespace minima::train {

// y[i] = x[i]·r·g[i], r = 1/sqrt(mean(x²) + eps). Returns r (kept for the backward).
// x, y, g: [D]
template <class T>
T rmsnorm_row(const T* x, const T* g, T* y, int64_t d, T eps) {
  T ss = 0;
  for (int64_t i = 0; i < d; ++i) ss += x[i] * x[i];
  const T r = T(1) / std::sqrt(ss / T(d) + eps);
  for (int64_t i = 0; i < d; ++i) y[i] = x[i] * r * g[i];
  return r;
}

// Backward of rmsnorm_row given its r: dx[i] (+)= r·(dy[i]·g[i]) − x[i]·r³/D·Σ_j dy[j]·g[j]·x[j];
// dg[i] += dy[i]·x[i]·r. dx is accumulated into (the residual stream's gradient).
template <class T>
void rmsnorm_row_backward(const T* dy, const T* x, const T* g, T r, T* dx, T* dg, int64_t d) {
  T dot = 0;
  for (int64_t i = 0; i < d; ++i) dot += dy[i] * g[i] * x[i];
  const T c = dot * r * r * r / T(d);
  for (int64_t i = 0; i < d; ++i) {
    dx[i] += r * dy[i] * g[i] - x[i] * c;
    dg[i] += dy[i] * x[i] * r;
  }
}

// RoPE of adjacent pairs (llama's "normal" layout, as the inference engine applies it): pair i of
// a head turns by +θ_i (sign = 1, forward) or −θ_i (sign = −1, the backward: the transpose of a
// rotation is its inverse). h: [hd]; cs, sn: [hd/2] for this position.
template <class T>
void rope_row(T* h, int64_t hd, const float* cs, const float* sn, int sign) {
  for (int64_t i = 0; i < hd / 2; ++i) {
    const T a = h[2 * i], b = h[2 * i + 1];
    const T c = T(cs[i]), s = T(sign) * T(sn[i]);
    h[2 * i] = a * c - b * s;
    h[2 * i + 1] = a * s + b * c;
  }
}

template <class T>
T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// act[i] = silu(gate[i])·up[i], silu(z) = z·σ(z). gate, up, act: [F]
template <class T>
void swiglu_row(const T* gate, const T* up, T* act, int64_t f) {
  for (int64_t i = 0; i < f; ++i) act[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

// dgate = dact·up·σ(g)·(1 + g·(1 − σ(g))), dup = dact·silu(g). Written (not accumulated).
template <class T>
void swiglu_row_backward(const T* dact, const T* gate, const T* up, T* dgate, T* dup, int64_t f) {
  for (int64_t i = 0; i < f; ++i) {
    const T s = sigmoid(gate[i]);
    dup[i] = dact[i] * gate[i] * s;
    dgate[i] = dact[i] * up[i] * s * (T(1) + gate[i] * (T(1) - s));
  }
}

// Cross-entropy of one row of logits [V] against target (−1: no loss, zero gradient). Returns the
// loss −log softmax(z)[target]; overwrites z with scale·(softmax(z) − onehot(target)).
template <class T>
T cross_entropy_row(T* z, int64_t v, int32_t target, T scale) {
  if (target < 0) {
    for (int64_t i = 0; i < v; ++i) z[i] = 0;
    return 0;
  }
  T mx = z[0];
  for (int64_t i = 1; i < v; ++i) mx = z[i] > mx ? z[i] : mx;
  const T zt = z[target];
  T sum = 0;
  for (int64_t i = 0; i < v; ++i) sum += (z[i] = std::exp(z[i] - mx));  // one exp per logit
  const T loss = mx + std::log(sum) - zt;
  const T f = scale / sum;
  for (int64_t i = 0; i < v; ++i) z[i] *= f;
  z[target] -= scale;
  return loss;
}

// Causal softmax of row i of a score matrix (entries j ≤ i; the rest set to 0). s: [T]
template <class T>
void causal_softmax_row(T* s, int64_t i, int64_t t) {
  T mx = s[0];
  for (int64_t j = 1; j <= i; ++j) mx = s[j] > mx ? s[j] : mx;
  T sum = 0;
  for (int64_t j = 0; j <= i; ++j) {
    s[j] = std::exp(s[j] - mx);
    sum += s[j];
  }
  const T inv = T(1) / sum;
  for (int64_t j = 0; j <= i; ++j) s[j] *= inv;
  for (int64_t j = i + 1; j < t; ++j) s[j] = 0;
}

// Backward of causal_softmax_row: dp (the gradient of the probabilities p) becomes the gradient of
// the scores, ds_j = p_j·(dp_j − Σ_k p_k·dp_k) for j ≤ i, 0 beyond.
template <class T>
void causal_softmax_row_backward(const T* p, T* dp, int64_t i, int64_t t) {
  T dot = 0;
  for (int64_t j = 0; j <= i; ++j) dot += p[j] * dp[j];
  for (int64_t j = 0; j <= i; ++j) dp[j] = p[j] * (dp[j] - dot);
  for (int64_t j = i + 1; j < t; ++j) dp[j] = 0;
}

}  // namespace minima::train
