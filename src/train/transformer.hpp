// Forward and backward pass of a llama-architecture model for training: embedding, RMSNorm, q/k/v
// projections, RoPE, causal attention with GQA, output projection, SwiGLU MLP, final norm, tied or
// untied output, softmax cross-entropy. Every activation the backward needs is kept; all buffers
// are allocated once for the step shape (batch × n_ctx tokens) in the constructor.
//
// Determinism: every reduction has a fixed order that does not depend on the thread count (matmuls:
// core/sgemm.hpp; norm-gain and embedding gradients are reduced per column / per vocabulary row in
// token order; attention runs one task per (sequence, KV head) whose heads are added in order), so
// the same inputs give the same bits with any number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/kernels/kernels.hpp"
#include "core/sgemm.hpp"
#include "core/threads.hpp"
#include "train/params.hpp"

namespace minima::train {

class Transformer {
 public:
  Transformer(const ModelConfig& c, const Layout& layout, const KernelSet& ks, ThreadPool& pool,
              GemmPrecision prec, int64_t batch);

  // tokens, targets: [batch, n_ctx] (target −1: position not scored). Adds the gradient of
  // loss_scale · Σ losses to grads (the caller zeroes them at the start of an optimizer step).
  // Returns the sum of the per-position losses and sets *scored to their count.
  double forward_backward(const float* params, float* grads, const int32_t* tokens,
                          const int32_t* targets, float loss_scale, int64_t* scored);
  // The same sum of losses, no gradients.
  double forward_loss(const float* params, const int32_t* tokens, const int32_t* targets,
                      int64_t* scored);

  // Replaces the softmax cross-entropy of each position: fn(row, z, v, target, scale) must
  // replace the logits z [v] of row `row` (in [0, batch·n_ctx)) by scale·∂loss/∂z and return the
  // row's loss. Called from several threads at once, one row each. Empty: cross-entropy.
  using RowLoss =
      std::function<double(int64_t row, float* z, int64_t v, int32_t target, float scale)>;
  void set_row_loss(RowLoss fn) { row_loss_fn_ = std::move(fn); }

  int64_t batch() const { return b_; }
  int64_t seq() const { return t_; }
  // Multiply-adds ×2 of the matmuls (projections, attention products, output) of one token's
  // forward pass; the backward is about twice that.
  double forward_flops_per_token() const;
  // Seconds spent in matmuls (sgemm calls, attention products included) since construction.
  double matmul_seconds() const { return matmul_seconds_; }

 private:
  struct LayerActs {
    std::vector<float> xin, h1, q, k, v, p, att, xmid, h2, gate, up, act;
    std::vector<float> r1, r2;  // RMSNorm reciprocals per row
  };

  double forward(const float* params, const int32_t* tokens, const int32_t* targets,
                 float loss_scale, int64_t* scored);
  void backward(const float* params, float* grads, const int32_t* tokens);

  void linear(const float* x, const float* w, float* y, int64_t in, int64_t out, bool acc);
  void linear_backward(const float* dy, const float* x, const float* w, float* dx, float* dw,
                       int64_t in, int64_t out, bool acc_dx);
  void rmsnorm(const float* x, const float* g, float* y, float* r);
  void rmsnorm_backward(const float* dy, const float* x, const float* g, const float* r, float* dx,
                        float* dg);
  void rope(float* x, int64_t heads, int sign);

  ModelConfig c_;
  const Layout& l_;
  const KernelSet& ks_;
  ThreadPool& pool_;
  GemmPrecision prec_;
  GemmWorkspace ws_;
  int64_t b_, t_, n_;  // sequences, positions per sequence, rows (b·t)
  std::vector<float> cos_, sin_;  // [t, hd/2]
  std::vector<LayerActs> acts_;
  std::vector<float> xf_, hf_, rf_, logits_;  // final residual, norm, reciprocals, logits
  std::vector<double> row_loss_;
  // Backward scratch.
  std::vector<float> dx_, dh_, dq_, dk_, dv_, datt_, dgate_, dup_, dact_;
  std::vector<float> att_scratch_;  // [threads, t·t]
  double matmul_seconds_ = 0;
  RowLoss row_loss_fn_;
};

}  // namespace minima::train
