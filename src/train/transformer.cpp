#include "train/transformer.hpp"

#include <chrono>
#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "train/attention.hpp"
#include "train/ops.hpp"

namespace minima::train {
namespace {

size_t sz(int64_t v) { return static_cast<size_t>(v); }

// Times a matmul section into *acc (only the caller's thread measures; the pool is synchronous).
class MatmulTimer {
 public:
  explicit MatmulTimer(double* acc) : acc_(acc), t0_(std::chrono::steady_clock::now()) {}
  ~MatmulTimer() {
    *acc_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  double* acc_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace

Transformer::Transformer(const ModelConfig& c, const Layout& layout, const KernelSet& ks,
                         ThreadPool& pool, GemmPrecision prec, int64_t batch)
    : c_(c), l_(layout), ks_(ks), pool_(pool), prec_(prec), ws_(pool.size()), b_(batch),
      t_(c.n_ctx), n_(batch * c.n_ctx) {
  c.validate();
  if (batch <= 0) fail("train: batch must be positive, got ", batch);
  const int64_t d = c.n_embd, hd = c.head_dim(), f = c.n_ff, h = c.n_head, hkv = c.n_head_kv;
  cos_.resize(sz(t_ * hd / 2));
  sin_.resize(sz(t_ * hd / 2));
  for (int64_t p = 0; p < t_; ++p) {
    for (int64_t i = 0; i < hd / 2; ++i) {
      // Same angles as the inference engine (model/batch_forward.cpp): θ = p·base^(−2i/hd).
      const double th = double(p) * std::pow(double(c.rope_base), -2.0 * double(i) / double(hd));
      cos_[sz(p * hd / 2 + i)] = float(std::cos(th));
      sin_[sz(p * hd / 2 + i)] = float(std::sin(th));
    }
  }
  acts_.resize(sz(c.n_layer));
  for (auto& a : acts_) {
    a.xin.resize(sz(n_ * d));
    a.h1.resize(sz(n_ * d));
    a.q.resize(sz(n_ * h * hd));
    a.k.resize(sz(n_ * hkv * hd));
    a.v.resize(sz(n_ * hkv * hd));
    a.p.resize(sz(b_ * h * t_ * t_));
    a.att.resize(sz(n_ * h * hd));
    a.xmid.resize(sz(n_ * d));
    a.h2.resize(sz(n_ * d));
    a.gate.resize(sz(n_ * f));
    a.up.resize(sz(n_ * f));
    a.act.resize(sz(n_ * f));
    a.r1.resize(sz(n_));
    a.r2.resize(sz(n_));
  }
  xf_.resize(sz(n_ * d));
  hf_.resize(sz(n_ * d));
  rf_.resize(sz(n_));
  logits_.resize(sz(n_ * c.n_vocab));
  row_loss_.resize(sz(n_));
  dx_.resize(sz(n_ * d));
  dh_.resize(sz(n_ * d));
  dq_.resize(sz(n_ * h * hd));
  dk_.resize(sz(n_ * hkv * hd));
  dv_.resize(sz(n_ * hkv * hd));
  datt_.resize(sz(n_ * h * hd));
  dgate_.resize(sz(n_ * f));
  dup_.resize(sz(n_ * f));
  dact_.resize(sz(n_ * f));
  att_scratch_.resize(sz(pool.size()) * sz(t_ * t_));
}

double Transformer::forward_flops_per_token() const {
  const double d = double(c_.n_embd), hd = double(c_.head_dim()), f = double(c_.n_ff);
  const double h = double(c_.n_head), hkv = double(c_.n_head_kv), t = double(t_);
  const double proj = d * (h * hd) * 2 + d * (hkv * hd) * 2 + 3 * d * f;
  const double attn = 2 * h * t * hd;  // scores and weighted values over the full t×t square
  return 2.0 * (double(c_.n_layer) * (proj + attn) + d * double(c_.n_vocab));
}

void Transformer::linear(const float* x, const float* w, float* y, int64_t in, int64_t out,
                         bool acc) {
  MatmulTimer timer(&matmul_seconds_);
  const GemmShape s{false, true, n_, out, in, in, in, out};
  sgemm(ks_, pool_, ws_, prec_, s, 1.0f, x, w, y, acc);
}

void Transformer::linear_backward(const float* dy, const float* x, const float* w, float* dx,
                                  float* dw, int64_t in, int64_t out, bool acc_dx) {
  MatmulTimer timer(&matmul_seconds_);
  if (dx != nullptr) {
    const GemmShape s{false, false, n_, in, out, out, in, in};
    sgemm(ks_, pool_, ws_, prec_, s, 1.0f, dy, w, dx, acc_dx);
  }
  const GemmShape sw{true, false, out, in, n_, out, in, in};
  sgemm(ks_, pool_, ws_, prec_, sw, 1.0f, dy, x, dw, true);
}

void Transformer::rmsnorm(const float* x, const float* g, float* y, float* r) {
  const int64_t d = c_.n_embd;
  pool_.parallel_for(n_, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) r[i] = rmsnorm_row(x + i * d, g, y + i * d, d, c_.rms_eps);
  });
}

void Transformer::rmsnorm_backward(const float* dy, const float* x, const float* g, const float* r,
                                   float* dx, float* dg) {
  const int64_t d = c_.n_embd;
  // dx row by row; the gain's gradient column by column, each summed over the rows in order.
  pool_.parallel_for(n_, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const float* dyi = dy + i * d;
      const float* xi = x + i * d;
      float dot = 0;
      for (int64_t j = 0; j < d; ++j) dot += dyi[j] * g[j] * xi[j];
      const float ri = r[i], cc = dot * ri * ri * ri / float(d);
      float* dxi = dx + i * d;
      for (int64_t j = 0; j < d; ++j) dxi[j] += ri * dyi[j] * g[j] - xi[j] * cc;
    }
  });
  pool_.parallel_for(d, [&](int64_t c0, int64_t c1) {
    for (int64_t j = c0; j < c1; ++j) {
      float s = 0;
      for (int64_t i = 0; i < n_; ++i) s += dy[i * d + j] * x[i * d + j] * r[i];
      dg[j] += s;
    }
  });
}

void Transformer::rope(float* x, int64_t heads, int sign) {
  const int64_t hd = c_.head_dim();
  pool_.parallel_for(n_, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const int64_t p = i % t_;
      for (int64_t h = 0; h < heads; ++h)
        rope_row(x + (i * heads + h) * hd, hd, &cos_[sz(p * hd / 2)], &sin_[sz(p * hd / 2)], sign);
    }
  });
}

double Transformer::forward(const float* params, const int32_t* tokens, const int32_t* targets,
                            float loss_scale, int64_t* scored) {
  const int64_t d = c_.n_embd, hd = c_.head_dim(), f = c_.n_ff, v = c_.n_vocab;
  const int64_t h = c_.n_head, hkv = c_.n_head_kv;
  const float* emb = params + l_.at(l_.tok_embd).offset;
  for (int64_t i = 0; i < n_; ++i) {
    if (tokens[i] < 0 || tokens[i] >= v)
      fail("train: token id ", tokens[i], " at position ", i, " is outside the vocabulary of ", v);
  }
  float* x = acts_.empty() ? xf_.data() : acts_[0].xin.data();
  pool_.parallel_for(n_, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) std::memcpy(x + i * d, emb + tokens[i] * d, sz(d) * 4);
  });
  for (int64_t li = 0; li < c_.n_layer; ++li) {
    LayerActs& a = acts_[sz(li)];
    const LayerIndex& L = l_.layers[sz(li)];
    const auto W = [&](int idx) { return params + l_.at(idx).offset; };
    rmsnorm(a.xin.data(), W(L.attn_norm), a.h1.data(), a.r1.data());
    linear(a.h1.data(), W(L.wq), a.q.data(), d, h * hd, false);
    linear(a.h1.data(), W(L.wk), a.k.data(), d, hkv * hd, false);
    linear(a.h1.data(), W(L.wv), a.v.data(), d, hkv * hd, false);
    rope(a.q.data(), h, 1);
    rope(a.k.data(), hkv, 1);
    {
      MatmulTimer timer(&matmul_seconds_);
      attention_forward(ks_, pool_, ws_, prec_, {b_, t_, h, hkv, hd}, a.q.data(), a.k.data(),
                        a.v.data(), a.p.data(), a.att.data());
    }
    a.xmid = a.xin;
    linear(a.att.data(), W(L.wo), a.xmid.data(), h * hd, d, true);
    rmsnorm(a.xmid.data(), W(L.ffn_norm), a.h2.data(), a.r2.data());
    linear(a.h2.data(), W(L.w_gate), a.gate.data(), d, f, false);
    linear(a.h2.data(), W(L.w_up), a.up.data(), d, f, false);
    pool_.parallel_for(n_, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; ++i)
        swiglu_row(&a.gate[sz(i * f)], &a.up[sz(i * f)], &a.act[sz(i * f)], f);
    });
    float* next = li + 1 < c_.n_layer ? acts_[sz(li + 1)].xin.data() : xf_.data();
    std::memcpy(next, a.xmid.data(), sz(n_ * d) * 4);
    linear(a.act.data(), W(L.w_down), next, f, d, true);
  }
  rmsnorm(xf_.data(), params + l_.at(l_.output_norm).offset, hf_.data(), rf_.data());
  linear(hf_.data(), params + l_.at(l_.output).offset, logits_.data(), d, v, false);
  pool_.parallel_for(n_, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i)
      row_loss_[sz(i)] = row_loss_fn_
                             ? row_loss_fn_(i, &logits_[sz(i * v)], v, targets[i], loss_scale)
                             : cross_entropy_row(&logits_[sz(i * v)], v, targets[i], loss_scale);
  });
  double sum = 0;
  int64_t count = 0;
  for (int64_t i = 0; i < n_; ++i) {
    if (targets[i] < 0) continue;
    if (targets[i] >= v)
      fail("train: target id ", targets[i], " at position ", i, " is outside the vocabulary");
    sum += row_loss_[sz(i)];
    ++count;
  }
  *scored = count;
  return sum;
}

void Transformer::backward(const float* params, float* grads, const int32_t* tokens) {
  const int64_t d = c_.n_embd, hd = c_.head_dim(), f = c_.n_ff, v = c_.n_vocab;
  const int64_t h = c_.n_head, hkv = c_.n_head_kv;
  const auto W = [&](int idx) { return params + l_.at(idx).offset; };
  const auto G = [&](int idx) { return grads + l_.at(idx).offset; };
  // Output projection and final norm: logits_ now holds dlogits.
  std::fill(dh_.begin(), dh_.end(), 0.0f);
  linear_backward(logits_.data(), hf_.data(), W(l_.output), dh_.data(), G(l_.output), d, v, false);
  std::fill(dx_.begin(), dx_.end(), 0.0f);
  rmsnorm_backward(dh_.data(), xf_.data(), W(l_.output_norm), rf_.data(), dx_.data(),
                   G(l_.output_norm));
  for (int64_t li = c_.n_layer - 1; li >= 0; --li) {
    LayerActs& a = acts_[sz(li)];
    const LayerIndex& L = l_.layers[sz(li)];
    // MLP: x_out = xmid + act·W_downᵀ.
    linear_backward(dx_.data(), a.act.data(), W(L.w_down), dact_.data(), G(L.w_down), f, d, false);
    pool_.parallel_for(n_, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; ++i)
        swiglu_row_backward(&dact_[sz(i * f)], &a.gate[sz(i * f)], &a.up[sz(i * f)],
                            &dgate_[sz(i * f)], &dup_[sz(i * f)], f);
    });
    linear_backward(dgate_.data(), a.h2.data(), W(L.w_gate), dh_.data(), G(L.w_gate), d, f, false);
    linear_backward(dup_.data(), a.h2.data(), W(L.w_up), dh_.data(), G(L.w_up), d, f, true);
    rmsnorm_backward(dh_.data(), a.xmid.data(), W(L.ffn_norm), a.r2.data(), dx_.data(),
                     G(L.ffn_norm));
    // Attention: xmid = xin + att·W_oᵀ.
    linear_backward(dx_.data(), a.att.data(), W(L.wo), datt_.data(), G(L.wo), h * hd, d, false);
    {
      MatmulTimer timer(&matmul_seconds_);
      attention_backward(ks_, pool_, ws_, prec_, {b_, t_, h, hkv, hd}, a.q.data(), a.k.data(),
                         a.v.data(), a.p.data(), datt_.data(), dq_.data(), dk_.data(), dv_.data(),
                         att_scratch_.data());
    }
    rope(dq_.data(), h, -1);
    rope(dk_.data(), hkv, -1);
    linear_backward(dq_.data(), a.h1.data(), W(L.wq), dh_.data(), G(L.wq), d, h * hd, false);
    linear_backward(dk_.data(), a.h1.data(), W(L.wk), dh_.data(), G(L.wk), d, hkv * hd, true);
    linear_backward(dv_.data(), a.h1.data(), W(L.wv), dh_.data(), G(L.wv), d, hkv * hd, true);
    rmsnorm_backward(dh_.data(), a.xin.data(), W(L.attn_norm), a.r1.data(), dx_.data(),
                     G(L.attn_norm));
  }
  // Embedding: each thread owns a range of vocabulary rows and adds the rows' gradients in token
  // order, so the sums do not depend on the thread count.
  float* ge = G(l_.tok_embd);
  pool_.run([&](int ith, int nth) {
    const int64_t v0 = v * ith / nth, v1 = v * (ith + 1) / nth;
    for (int64_t i = 0; i < n_; ++i) {
      const int64_t tok = tokens[i];
      if (tok < v0 || tok >= v1) continue;
      float* g = ge + tok * d;
      const float* dxi = &dx_[sz(i * d)];
      for (int64_t j = 0; j < d; ++j) g[j] += dxi[j];
    }
  });
}

double Transformer::forward_backward(const float* params, float* grads, const int32_t* tokens,
                                     const int32_t* targets, float loss_scale, int64_t* scored) {
  const double loss = forward(params, tokens, targets, loss_scale, scored);
  backward(params, grads, tokens);
  return loss;
}

double Transformer::forward_loss(const float* params, const int32_t* tokens,
                                 const int32_t* targets, int64_t* scored) {
  return forward(params, tokens, targets, 0.0f, scored);
}

}  // namespace minima::train
