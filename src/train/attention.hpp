// Causal self-attention with grouped KV heads for training, forward and backward.
//
// One task per (sequence, KV head) runs every query head of that group in order on one thread with
// sgemm_serial, so the group's key/value gradients are summed in a fixed order with no sharing
// between threads (the result does not depend on the thread count). Scores are computed over the
// full t×t square and the masked half discarded: simpler, and at training lengths (≤ 512) the
// projections dominate.
//
// Per head, with Q, K, V the head's [t, hd] slices and s = 1/sqrt(hd):
//   S = s·Q·Kᵀ, P = causal_softmax(S), O = P·V
//   dP = dO·Vᵀ, dV += Pᵀ·dO, dS = P ⊙ (dP − rowsum(P ⊙ dP)), dQ = s·dS·K, dK += s·dSᵀ·Q
#pragma once

#include <cstdint>

#include "core/kernels/kernels.hpp"
#include "core/sgemm.hpp"
#include "core/threads.hpp"

namespace minima::train {

struct AttentionDims {
  int64_t b = 0, t = 0;    // sequences, positions per sequence (rows are b·t + position)
  int64_t h = 0, hkv = 0;  // query heads, key/value heads (h a multiple of hkv)
  int64_t hd = 0;          // head size
};

// q: [b·t, h·hd], k, v: [b·t, hkv·hd] -> p: [b, h, t, t] (probabilities, 0 above the diagonal),
// out: [b·t, h·hd]. ws: built for pool.size() threads.
void attention_forward(const KernelSet& ks, ThreadPool& pool, GemmWorkspace& ws, GemmPrecision prec,
                       const AttentionDims& d, const float* q, const float* k, const float* v,
                       float* p, float* out);

// dout: [b·t, h·hd] -> dq: [b·t, h·hd], dk, dv: [b·t, hkv·hd] (all written, not accumulated).
// scratch: [pool.size(), t·t].
void attention_backward(const KernelSet& ks, ThreadPool& pool, GemmWorkspace& ws,
                        GemmPrecision prec, const AttentionDims& d, const float* q, const float* k,
                        const float* v, const float* p, const float* dout, float* dq, float* dk,
                        float* dv, float* scratch);

}  // namespace minima::train
