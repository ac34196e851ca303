// Knowledge-distillation losses for `minima distill`: the student learns the teacher's whole
// next-token distribution instead of only the one observed token.
//
// Teacher side (top-k to bound memory): at temperature τ, the teacher's log-probabilities
// lp_i = z_i/τ − log Σ exp(z/τ) of its k most likely tokens are kept exactly; the remaining mass
// r = 1 − Σ_k exp(lp_i) is spread evenly over the other v − k tokens, so both KL directions stay
// finite. Student side: q = softmax(z/τ) over the whole vocabulary.
//
//   fkl   (forward, mode-covering)  τ²·KL(p ‖ q)        ∂/∂z = τ·(q − p)
//   rkl   (reverse, mode-seeking)   τ²·KL(q ‖ p)        ∂/∂z_m = τ·q_m·(a_m − Σ_j q_j·a_j),
//                                                        a_j = log q_j − log p_j
//   mixed                           (fkl + rkl) / 2
// and the total loss (1 − α)·KD + α·CE(z, observed token) (CE at temperature 1). The τ² factor
// keeps gradient magnitudes comparable across temperatures (Hinton et al.).
#pragma once

#include <cstdint>
#include <string>

namespace minima::train {

enum class KdLoss { Fkl, Rkl, Mixed };

struct KdConfig {
  KdLoss loss = KdLoss::Fkl;
  float temp = 1.0f;
  float alpha = 0.0f;  // weight of the hard-label cross-entropy
  int top_k = 64;
};

KdLoss parse_kd_loss(const std::string& s);  // fkl | rkl | mixed; Error otherwise
const char* kd_loss_name(KdLoss l);

// Teacher logits z: [v] → the top-k ids and their log-probabilities at temperature τ (ids and
// lp: [k], most likely first), and the tail log-probability per other token (*tail_lp).
void teacher_top_k(const float* z, int64_t v, float temp, int k, int32_t* ids, float* lp,
                   float* tail_lp);

// One position: student logits z [v] are replaced by scale·∂loss/∂z; returns the loss (unscaled).
// target < 0: not scored (zero gradient, loss 0).
double kd_row(float* z, int64_t v, const int32_t* ids, const float* lp, int k, float tail_lp,
              int32_t target, const KdConfig& c, float scale);

}  // namespace minima::train
