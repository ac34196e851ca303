// Forward pass of the llama / qwen2 / qwen3 graph (pre-norm, RMSNorm, RoPE, GQA attention, SwiGLU):
//   x = embd[tokens]
//   per layer: h = x + Wo·attn(rope(Wq·n(x) + bq), rope(Wk·n(x) + bk), Wv·n(x) + bv)
//              x = h + Wdown·(silu(Wgate·n(h)) * Wup·n(h))
//   logits = Wout · n(x)
// Everything but the weight matmuls is F32 (attention over the F32 cache, norms in double sums).
#include "model/forward.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/attention.hpp"
#include "core/error.hpp"

namespace minima {
namespace {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]   x, out, w: [n]
void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps) {
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * double(x[i]);
  const float scale = 1.0f / std::sqrt(static_cast<float>(ss / double(n)) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

inline float silu(float x) {
  return x / (1.0f + std::exp(-x));
}

// Rotates the first n_rot dims of one head. cs, sn: [n_rot/2] for this position.
void rope_head(float* h, int64_t n_rot, RopeStyle style, const float* cs, const float* sn) {
  const int64_t half = n_rot / 2;
  if (style == RopeStyle::Norm) {
    for (int64_t i = 0; i < half; ++i) {
      const float a = h[2 * i], b = h[2 * i + 1];
      h[2 * i] = a * cs[i] - b * sn[i];
      h[2 * i + 1] = a * sn[i] + b * cs[i];
    }
  } else {
    for (int64_t i = 0; i < half; ++i) {
      const float a = h[i], b = h[i + half];
      h[i] = a * cs[i] - b * sn[i];
      h[i + half] = a * sn[i] + b * cs[i];
    }
  }
}

}  // namespace

Session::Session(const Model& model, const KernelSet& kernels, ThreadPool& pool, SessionOptions opt)
    : model_(model),
      hp_(model.hparams()),
      ks_(kernels),
      pool_(pool),
      opt_(opt),
      kv_(hp_, opt.n_ctx > 0 ? opt.n_ctx : hp_.n_ctx_train),
      mm_(model.max_matmul_in(), std::max<int64_t>(opt.n_batch, 1), pool.size()) {
  if (opt_.n_batch <= 0) fail("batch size must be positive, got ", opt_.n_batch);
  const auto B = static_cast<size_t>(opt_.n_batch);
  const auto sz = [](int64_t v) { return static_cast<size_t>(v); };
  x_.resize(B * sz(hp_.n_embd));
  xn_.resize(B * sz(hp_.n_embd));
  q_.resize(B * sz(hp_.n_head * hp_.head_dim));
  k_.resize(B * sz(hp_.n_head_kv * hp_.head_dim));
  v_.resize(B * sz(hp_.n_head_kv * hp_.head_dim_v));
  att_.resize(B * sz(hp_.n_head * hp_.head_dim_v));
  gate_.resize(B * sz(hp_.n_ff));
  up_.resize(B * sz(hp_.n_ff));
  attn_scratch_.resize(sz(pool.size()) * sz(kAttnScratchFloats));
  cos_.resize(B * sz(hp_.n_rot / 2));
  sin_.resize(B * sz(hp_.n_rot / 2));
  logits_.resize(sz(hp_.n_vocab));
  // theta_i(pos) = pos * scale * base^(-2i/n_rot) / factor_i, computed in double so long
  // contexts keep their angles exact to float precision.
  inv_freq_.resize(sz(hp_.n_rot / 2));
  const auto& ff = model.rope_freq_factors();
  for (int64_t i = 0; i < hp_.n_rot / 2; ++i) {
    double f =
        std::pow(double(hp_.rope_base), -2.0 * double(i) / double(hp_.n_rot)) * hp_.rope_freq_scale;
    if (!ff.empty()) f /= ff[sz(i)];
    inv_freq_[sz(i)] = f;
  }
}

void Session::eval(std::span<const int32_t> tokens, float* logits_out) {
  const auto n = static_cast<int64_t>(tokens.size());
  if (n == 0) return;
  if (n_past_ + n > kv_.n_ctx())
    fail("context is full: ", n_past_, " + ", n, " tokens exceed the context size ", kv_.n_ctx());
  for (int64_t i = 0; i < n; ++i) {
    if (tokens[static_cast<size_t>(i)] < 0 || tokens[static_cast<size_t>(i)] >= hp_.n_vocab)
      fail("token id ", tokens[static_cast<size_t>(i)], " at position ", i,
           " is outside the vocabulary [0, ", hp_.n_vocab, ")");
  }
  for (int64_t c0 = 0; c0 < n; c0 += opt_.n_batch) {
    const int64_t cn = std::min(opt_.n_batch, n - c0);
    const bool last_chunk = c0 + cn == n;
    // Logits are computed only where asked for: every row into logits_out, else just the very
    // last row (the big vocabulary matmul is skipped for the rest of a prompt).
    float* out =
        logits_out ? logits_out + c0 * hp_.n_vocab : (last_chunk ? logits_.data() : nullptr);
    forward_chunk(tokens.data() + c0, cn, out);
  }
}

void Session::rope_tables(int64_t n, int64_t pos0) {
  const int64_t half = hp_.n_rot / 2;
  for (int64_t t = 0; t < n; ++t) {
    const double pos = double(pos0 + t);
    for (int64_t i = 0; i < half; ++i) {
      const double th = pos * inv_freq_[static_cast<size_t>(i)];
      cos_[static_cast<size_t>(t * half + i)] = static_cast<float>(std::cos(th));
      sin_[static_cast<size_t>(t * half + i)] = static_cast<float>(std::sin(th));
    }
  }
}

// logits_out: null (compute nothing after the last layer), or [n, n_vocab] when it points to a
// caller buffer, or logits_ ([n_vocab], last row only).
void Session::forward_chunk(const int32_t* tokens, int64_t n, float* logits_out) {
  const int64_t E = hp_.n_embd, H = hp_.n_head, Hkv = hp_.n_head_kv, hd = hp_.head_dim,
                hdv = hp_.head_dim_v;
  const int64_t qd = H * hd, kd = Hkv * hd, vd = Hkv * hdv, od = H * hdv, F = hp_.n_ff;
  const int64_t pos0 = n_past_;
  const bool exact = opt_.exact;

  for (int64_t t = 0; t < n; ++t)
    dequantize_row(ks_, model_.tok_embd(), tokens[t], &x_[static_cast<size_t>(t * E)], exact);
  rope_tables(n, pos0);

  for (int64_t il = 0; il < hp_.n_layer; ++il) {
    const LayerWeights& L = model_.layers()[static_cast<size_t>(il)];
    for (int64_t t = 0; t < n; ++t)
      rms_norm(&x_[t * E], L.attn_norm.data(), &xn_[t * E], E, hp_.rms_eps);
    matmul(ks_, pool_, mm_, L.wq, xn_.data(), n, q_.data(), exact);
    matmul(ks_, pool_, mm_, L.wk, xn_.data(), n, k_.data(), exact);
    matmul(ks_, pool_, mm_, L.wv, xn_.data(), n, v_.data(), exact);
    for (int64_t t = 0; t < n; ++t) {
      float* q = &q_[t * qd];
      float* k = &k_[t * kd];
      float* v = &v_[t * vd];
      if (!L.bq.empty())
        for (int64_t i = 0; i < qd; ++i) q[i] += L.bq[i];
      if (!L.bk.empty())
        for (int64_t i = 0; i < kd; ++i) k[i] += L.bk[i];
      if (!L.bv.empty())
        for (int64_t i = 0; i < vd; ++i) v[i] += L.bv[i];
      if (!L.q_norm.empty()) {
        for (int64_t h = 0; h < H; ++h)
          rms_norm(q + h * hd, L.q_norm.data(), q + h * hd, hd, hp_.rms_eps);
        for (int64_t h = 0; h < Hkv; ++h)
          rms_norm(k + h * hd, L.k_norm.data(), k + h * hd, hd, hp_.rms_eps);
      }
      const float* cs = &cos_[t * (hp_.n_rot / 2)];
      const float* sn = &sin_[t * (hp_.n_rot / 2)];
      for (int64_t h = 0; h < H; ++h) rope_head(q + h * hd, hp_.n_rot, model_.arch().rope, cs, sn);
      for (int64_t h = 0; h < Hkv; ++h)
        rope_head(k + h * hd, hp_.n_rot, model_.arch().rope, cs, sn);
      kv_.store_k(il, pos0 + t, k);
      std::memcpy(kv_.v(il, pos0 + t), v, static_cast<size_t>(vd) * sizeof(float));
    }
    attention(il, n, pos0);
    matmul(ks_, pool_, mm_, L.wo, att_.data(), n, xn_.data(), exact);
    for (int64_t i = 0; i < n * E; ++i) x_[i] += xn_[i];

    for (int64_t t = 0; t < n; ++t)
      rms_norm(&x_[t * E], L.ffn_norm.data(), &xn_[t * E], E, hp_.rms_eps);
    matmul(ks_, pool_, mm_, L.w_gate, xn_.data(), n, gate_.data(), exact);
    matmul(ks_, pool_, mm_, L.w_up, xn_.data(), n, up_.data(), exact);
    for (int64_t i = 0; i < n * F; ++i) gate_[i] = silu(gate_[i]) * up_[i];
    matmul(ks_, pool_, mm_, L.w_down, gate_.data(), n, xn_.data(), exact);
    for (int64_t i = 0; i < n * E; ++i) x_[i] += xn_[i];
  }
  n_past_ += n;
  (void)od;

  if (logits_out == nullptr) return;
  if (logits_out == logits_.data()) {  // last position only
    rms_norm(&x_[(n - 1) * E], model_.output_norm().data(), xn_.data(), E, hp_.rms_eps);
    matmul(ks_, pool_, mm_, model_.output(), xn_.data(), 1, logits_.data(), exact);
    return;
  }
  for (int64_t t = 0; t < n; ++t)
    rms_norm(&x_[t * E], model_.output_norm().data(), &xn_[t * E], E, hp_.rms_eps);
  matmul(ks_, pool_, mm_, model_.output(), xn_.data(), n, logits_out, exact);
  std::memcpy(logits_.data(), logits_out + (n - 1) * hp_.n_vocab,
              static_cast<size_t>(hp_.n_vocab) * sizeof(float));
}

// Causal attention of the n new tokens (positions pos0..pos0+n-1) over the cache [0, pos0+t].
// Work item = (token, kv head): the query heads of that group form one tile (they share every key
// and value they read). Items are dealt round-robin because later tokens see more positions.
void Session::attention(int64_t il, int64_t n, int64_t pos0) {
  const int64_t H = hp_.n_head, Hkv = hp_.n_head_kv, hd = hp_.head_dim, hdv = hp_.head_dim_v;
  const int64_t group = H / Hkv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  pool_.run([&](int ith, int nth) {
    float* scratch = &attn_scratch_[static_cast<size_t>(ith) * kAttnScratchFloats];
    int64_t limit[kAttnMaxRows];
    for (int64_t it = ith; it < n * Hkv; it += nth) {
      const int64_t t = it / Hkv, hk = it % Hkv;
      for (int64_t h0 = 0; h0 < group; h0 += kAttnMaxRows) {
        AttentionTile tile;
        tile.n_rows = std::min(kAttnMaxRows, group - h0);
        const int64_t h = hk * group + h0;
        tile.q = &q_[static_cast<size_t>(t * H * hd + h * hd)];
        tile.q_stride = hd;
        for (int64_t i = 0; i < tile.n_rows; ++i) limit[i] = pos0 + t + 1;
        tile.limit = limit;
        tile.kt = kv_.kt(il, hk);
        tile.kt_stride = kv_.kt_stride();
        tile.v = kv_.v(il, 0) + hk * hdv;
        tile.v_stride = Hkv * hdv;
        tile.hd = hd;
        tile.hdv = hdv;
        tile.scale = scale;
        tile.out = &att_[static_cast<size_t>(t * H * hdv + h * hdv)];
        tile.out_stride = hdv;
        ks_.attention(tile, scratch);
      }
    }
  });
}

}  // namespace minima
