// Forward pass of the llama / qwen2 / qwen3 graph (pre-norm, RMSNorm, RoPE, GQA attention, SwiGLU):
//   x = embd[tokens]
//   per layer: h = x + Wo·attn(rope(Wq·n(x) + bq), rope(Wk·n(x) + bk), Wv·n(x) + bv)
//              x = h + Wdown·(silu(Wgate·n(h)) * Wup·n(h))
//   logits = Wout · n(x)   (only for the rows asked for)
// Everything but the weight matmuls is F32 (attention over the F32 pool, norms in double sums:
// rms_norm_ref on the exact path, the table's RmsNormFn otherwise).
#include "model/batch_forward.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/attention.hpp"
#include "core/error.hpp"

namespace minima {
namespace {

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

Forward::Forward(const Model& model, const KernelSet& kernels, ThreadPool& pool, int64_t max_batch,
                 bool exact)
    : model_(model),
      hp_(model.hparams()),
      ks_(kernels),
      pool_(pool),
      max_batch_(max_batch),
      exact_(exact),
      mm_(model.max_matmul_in(), std::max<int64_t>(max_batch, 1), pool.size()) {
  if (max_batch <= 0) fail("batch size must be positive, got ", max_batch);
  const auto B = static_cast<size_t>(max_batch);
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

void Forward::check(const Batch& b, const KvPool& kv) const {
  const size_t n = b.tokens.size();
  if (n == 0) fail("empty batch");
  if (static_cast<int64_t>(n) > max_batch_)
    fail("batch of ", n, " rows exceeds the maximum of ", max_batch_);
  if (b.pos.size() != n || b.seq.size() != n)
    fail("batch: tokens, pos and seq must have the same length");
  for (size_t i = 0; i < n; ++i) {
    if (b.tokens[i] < 0 || b.tokens[i] >= hp_.n_vocab)
      fail("token id ", b.tokens[i], " at position ", i, " is outside the vocabulary [0, ",
           hp_.n_vocab, ")");
    if (b.seq[i] < 0 || static_cast<size_t>(b.seq[i]) >= b.seqs.size())
      fail("batch row ", i, ": bad sequence index");
    const SeqBlocks& s = b.seqs[static_cast<size_t>(b.seq[i])];
    if (b.pos[i] < 0 || b.pos[i] >= s.n_blocks * kv.block_size())
      fail("batch row ", i, ": position ", b.pos[i], " is outside its sequence's ",
           s.n_blocks * kv.block_size(), " KV positions");
  }
  if (b.n_decode < 0 || static_cast<size_t>(b.n_decode) > n)
    fail("batch: ", b.n_decode, " decode rows in a batch of ", n);
  for (size_t r = 0; r < b.logit_rows.size(); ++r) {
    if (b.logit_rows[r] < 0 || static_cast<size_t>(b.logit_rows[r]) >= n ||
        (r > 0 && b.logit_rows[r] <= b.logit_rows[r - 1]))
      fail("batch: logit rows must be ascending row indices");
  }
}

void Forward::rope_tables(std::span<const int32_t> pos) {
  const int64_t half = hp_.n_rot / 2;
  for (size_t t = 0; t < pos.size(); ++t) {
    for (int64_t i = 0; i < half; ++i) {
      const double th = double(pos[t]) * inv_freq_[static_cast<size_t>(i)];
      cos_[t * static_cast<size_t>(half) + static_cast<size_t>(i)] =
          static_cast<float>(std::cos(th));
      sin_[t * static_cast<size_t>(half) + static_cast<size_t>(i)] =
          static_cast<float>(std::sin(th));
    }
  }
}

void Forward::run(const Batch& b, KvPool& kv, float* logits) {
  check(b, kv);
  const int64_t n = static_cast<int64_t>(b.tokens.size()), nd = b.n_decode;
  const int64_t E = hp_.n_embd, H = hp_.n_head, Hkv = hp_.n_head_kv, hd = hp_.head_dim,
                hdv = hp_.head_dim_v;
  const int64_t qd = H * hd, kd = Hkv * hd, vd = Hkv * hdv, F = hp_.n_ff, half = hp_.n_rot / 2;
  const int64_t bs = kv.block_size();
  const RmsNormFn norm = exact_ ? rms_norm_ref : ks_.rms_norm;

  for (int64_t t = 0; t < n; ++t)
    dequantize_row(ks_, model_.tok_embd(), b.tokens[t], &x_[t * E], exact_);
  rope_tables(b.pos);

  for (int64_t il = 0; il < hp_.n_layer; ++il) {
    const LayerWeights& L = model_.layers()[static_cast<size_t>(il)];
    if (observer_) observer_->observe_residual(il, x_.data(), n, E);
    for (int64_t t = 0; t < n; ++t)
      norm(&x_[t * E], L.attn_norm.data(), &xn_[t * E], E, hp_.rms_eps);
    {
      const TensorView* ws[] = {&L.wq, &L.wk, &L.wv};
      float* ys[] = {q_.data(), k_.data(), v_.data()};
      if (observer_) observer_->observe(MatmulSite::AttnQkv, il, xn_.data(), n, E);
      matmul_shared_input(ks_, pool_, mm_, ws, xn_.data(), n, ys, exact_, nd);
    }
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
          norm(q + h * hd, L.q_norm.data(), q + h * hd, hd, hp_.rms_eps);
        for (int64_t h = 0; h < Hkv; ++h)
          norm(k + h * hd, L.k_norm.data(), k + h * hd, hd, hp_.rms_eps);
      }
      const float* cs = &cos_[t * half];
      const float* sn = &sin_[t * half];
      for (int64_t h = 0; h < H; ++h) rope_head(q + h * hd, hp_.n_rot, model_.arch().rope, cs, sn);
      for (int64_t h = 0; h < Hkv; ++h)
        rope_head(k + h * hd, hp_.n_rot, model_.arch().rope, cs, sn);
      const SeqBlocks& s = b.seqs[static_cast<size_t>(b.seq[t])];
      kv.store(il, s.table[b.pos[t] / bs], b.pos[t] % bs, k, v);
    }
    attention(b, kv, il);
    if (observer_) observer_->observe(MatmulSite::AttnOut, il, att_.data(), n, H * hdv);
    matmul(ks_, pool_, mm_, L.wo, att_.data(), n, xn_.data(), exact_, nd);
    for (int64_t i = 0; i < n * E; ++i) x_[i] += xn_[i];

    for (int64_t t = 0; t < n; ++t)
      norm(&x_[t * E], L.ffn_norm.data(), &xn_[t * E], E, hp_.rms_eps);
    {
      const TensorView* ws[] = {&L.w_gate, &L.w_up};
      float* ys[] = {gate_.data(), up_.data()};
      if (observer_) observer_->observe(MatmulSite::FfnGateUp, il, xn_.data(), n, E);
      matmul_shared_input(ks_, pool_, mm_, ws, xn_.data(), n, ys, exact_, nd);
    }
    (exact_ ? silu_mul_ref : ks_.silu_mul)(gate_.data(), up_.data(), n * F);
    if (observer_) observer_->observe(MatmulSite::FfnDown, il, gate_.data(), n, F);
    matmul(ks_, pool_, mm_, L.w_down, gate_.data(), n, xn_.data(), exact_, nd);
    for (int64_t i = 0; i < n * E; ++i) x_[i] += xn_[i];
  }

  if (observer_) observer_->observe_residual(hp_.n_layer, x_.data(), n, E);
  // Logits only for the rows asked for (the vocabulary matmul is the largest one).
  const auto nl = static_cast<int64_t>(b.logit_rows.size());
  if (nl == 0) return;
  for (int64_t r = 0; r < nl; ++r)
    norm(&x_[b.logit_rows[static_cast<size_t>(r)] * E], model_.output_norm().data(), &xn_[r * E], E,
         hp_.rms_eps);
  int64_t nl_decode = 0;  // logit rows are ascending, so the decode ones lead
  while (nl_decode < nl && b.logit_rows[static_cast<size_t>(nl_decode)] < nd) ++nl_decode;
  if (observer_) observer_->observe(MatmulSite::Output, -1, xn_.data(), nl, E);
  matmul(ks_, pool_, mm_, model_.output(), xn_.data(), nl, logits, exact_, nl_decode);
}

// Causal attention of every row over its own sequence. Work item = (row, kv head): the query heads
// of that group form one tile (they share every key and value they read).
void Forward::attention(const Batch& b, const KvPool& kv, int64_t il) {
  const int64_t n = static_cast<int64_t>(b.tokens.size());
  const int64_t H = hp_.n_head, Hkv = hp_.n_head_kv, hd = hp_.head_dim, hdv = hp_.head_dim_v;
  const int64_t group = H / Hkv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  pool_.run([&](int ith, int nth) {
    float* scratch = &attn_scratch_[static_cast<size_t>(ith) * kAttnScratchFloats];
    int64_t limit[kAttnMaxRows];
    // Items KV-head-major, dealt round-robin: the threads walk the tokens of one KV head at a
    // time, whose keys and values (2 · n_ctx · head_dim floats) stay in L2, instead of rotating
    // through all heads' at every token; round-robin keeps the causal cost balanced.
    for (int64_t it = ith; it < n * Hkv; it += nth) {
      const int64_t hk = it / n, t = it % n;
      const SeqBlocks& s = b.seqs[static_cast<size_t>(b.seq[t])];
      for (int64_t h0 = 0; h0 < group; h0 += kAttnMaxRows) {
        AttentionTile tile;
        tile.n_rows = std::min(kAttnMaxRows, group - h0);
        const int64_t h = hk * group + h0;
        tile.q = &q_[static_cast<size_t>(t * H * hd + h * hd)];
        tile.q_stride = hd;
        for (int64_t i = 0; i < tile.n_rows; ++i) limit[i] = b.pos[t] + 1;
        tile.limit = limit;
        tile.table = s.table;
        tile.block_size = kv.block_size();
        tile.k_base = kv.k_base(il, hk);
        tile.k_block_stride = kv.k_block_stride();
        tile.v_base = kv.v_base(il, hk);
        tile.v_block_stride = kv.v_block_stride();
        tile.v_row_stride = kv.v_row_stride();
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
