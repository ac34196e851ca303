// Structured pruning (`minima prune`): rank a model's units by their activations on calibration
// text and write a smaller model of the same architecture that keeps the most important ones
// (Minitron-style activation importance).
//
// Units and their importance, from one pass over the calibration text (PruneImportance observes
// the forward pass):
//   ffn      channel j of layer l: E[a_j²], a = silu(gate)·up, the input of ffn_down;
//   heads    KV group g of layer l (a KV head with its query heads, so GQA stays valid and
//            head_dim unchanged): Σ over the group's query heads of E[‖o_h‖²], o_h the head's
//            attention output;
//   embd     channel i of the residual width: Σ over layers of E[x̂_i²] for the normalized inputs
//            of attention and MLP;
//   depth    block l: 1 − mean cos(x_l, x_{l+1}) of the residual stream it transforms (a block
//            that barely turns the stream matters least).
// Counts are uniform across layers (the architecture needs one n_ff and one head count); which
// units a layer keeps is its own ranking. Kept units stay in their original order, so keeping
// everything reproduces the model exactly. The student is written in F32 (or F16) for training.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <span>

#include "core/kernels/kernels.hpp"
#include "core/quant/types.hpp"
#include "model/batch_forward.hpp"
#include "model/model.hpp"

namespace minima {

class PruneImportance : public MatmulObserver {
 public:
  explicit PruneImportance(const Model& model);
  void observe(MatmulSite site, int64_t layer, const float* x, int64_t n, int64_t cols) override;
  void observe_residual(int64_t layer, const float* x, int64_t n, int64_t cols) override;

  // Scores (higher = more important), after a pass over calibration text.
  std::vector<double> ffn(int64_t layer) const;        // [n_ff]
  std::vector<double> kv_groups(int64_t layer) const;  // [n_head_kv]
  std::vector<double> embd() const;                    // [n_embd]
  std::vector<double> depth() const;                   // [n_layer]
  int64_t rows() const { return rows_; }

 private:
  int64_t n_layer_, n_embd_, n_ff_, n_head_, n_kv_, head_dim_v_;
  std::vector<std::vector<double>> ffn_, head_;  // [layer][n_ff], [layer][n_head] Σ x²
  std::vector<double> embd_;                     // [n_embd] Σ x̂²
  std::vector<double> influence_;                // [n_layer] Σ (1 − cos)
  std::vector<float> prev_;                      // residual entering the current block
  int64_t rows_ = 0, norm_rows_ = 0;
};

// One pass of `m` over ids in windows of ctx tokens, each from an empty context.
PruneImportance measure_importance(const Model& m, std::span<const int32_t> ids, int64_t ctx,
                                   const KernelSet& ks, ThreadPool& pool);

struct PruneCounts {
  int64_t n_layer, n_head_kv, n_ff, n_embd;  // what the student keeps
};

// Parameter count of the architecture of `m` with these counts.
int64_t pruned_param_count(const Model& m, const PruneCounts& k);

struct PrunePlan {
  std::vector<int64_t> layers;                  // kept teacher layers, ascending
  std::vector<std::vector<int64_t>> kv_groups;  // per kept layer: kept KV groups, ascending
  std::vector<std::vector<int64_t>> ffn;        // per kept layer: kept channels, ascending
  std::vector<int64_t> embd;                    // kept residual channels, ascending
};

// The top-ranked units for the counts (ties: the lower index).
PrunePlan plan_pruning(const Model& m, const PruneImportance& imp, const PruneCounts& k);

// Writes the student: the teacher's metadata with the new sizes, the kept slices of every tensor.
void write_pruned(const Model& teacher, const PrunePlan& plan, DType type,
                  const std::filesystem::path& out);

}  // namespace minima
