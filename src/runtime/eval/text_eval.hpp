// How well a model predicts a text, and how far its predictions are from a base model's: the
// computation behind `minima perplexity` and `minima compare`.
//
// Convention (llama-perplexity's): the token ids are cut into non-overlapping windows of ctx
// tokens; each window runs from an empty context with its first token replaced by BOS (when
// bos >= 0), and the predictions of its second half are scored: the token at j + 1 against the
// logits at j for j in [ctx/2, ctx − 1) (all_positions: j in [0, ctx − 1)).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "core/kernels/kernels.hpp"
#include "core/threads.hpp"
#include "model/batch_forward.hpp"
#include "model/model.hpp"

namespace minima {

struct TextEvalOptions {
  int64_t ctx = 0;                  // window length (>= 2)
  int64_t max_windows = INT64_MAX;  // score at most this many windows
  bool all_positions = false;
  int32_t bos = -1;                    // token replacing each window's first, or −1
  MatmulObserver* observer = nullptr;  // sees the model's (not the base's) forward passes
  // After each window: (windows done, perplexity so far).
  std::function<void(int64_t, double)> progress;
};

struct TextEval {
  int64_t windows = 0, scored = 0;
  double mean_nll = 0, perplexity = 0;
  double accuracy = 0;  // share of positions whose most likely token is the one that follows
  // Against the base model (when one was given): KL(base ‖ model) per scored position in nats.
  bool has_base = false;
  double base_perplexity = 0, base_accuracy = 0, kl_mean = 0, kl_median = 0, kl_p99 = 0, kl_max = 0;
  double top1_agreement = 0;  // share of positions where both rank the same token first
};

// Throws Error when ids hold less than one window, or base's vocabulary differs from model's.
TextEval evaluate_text(const Model& model, const Model* base, std::span<const int32_t> ids,
                       const TextEvalOptions& opt, const KernelSet& ks, ThreadPool& pool);

}  // namespace minima
