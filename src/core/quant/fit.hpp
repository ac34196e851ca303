// Least-squares scale fitting for the quantizers that search (internal to core; used by
// search_quantize.cpp). A sub-block x[0..len) with non-negative weights w is approximated by
//   affine:    x ≈ s·q + b,  q ∈ [0, nmax]          (Q4_K, Q5_K, Q2_K; Q4_1, Q5_1)
//   symmetric: x ≈ s·q,      q ∈ [−nmax, nmax − 1]   (Q6_K, Q3_K; Q4_0, Q5_0)
// minimizing E = Σ w·(x − x̂)². For a fixed q the optimal (s, b) solve a 2×2 (affine) or 1×1
// (symmetric) normal equation, and for a fixed (s, b) the optimal q is round-to-nearest clamped,
// so alternating the two never increases E. Started from a sweep of candidate scales around
// the plain min/max one (different starts reach different local minima of this piecewise
// problem), the best point found is at least as good as every start, the plain one included.
#pragma once

#include <cstdint>

namespace minima::quant::fit {

struct Affine {
  float s = 0.0f;  // step
  float b = 0.0f;  // offset (the dequantized value of q = 0)
  float err = 0.0f;
};

// non_positive_b: the format stores the offset as a non-negative "min" subtracted (K-quants), so
// b is constrained to ≤ 0. q receives the levels of the returned fit. len ≤ 32.
Affine fit_affine(const float* x, const float* w, int len, int nmax, bool non_positive_b, int* q);

// Error of the given (s, b) with q chosen optimally (written to q).
float affine_error(const float* x, const float* w, int len, int nmax, float s, float b, int* q);

struct Symmetric {
  float s = 0.0f;
  float err = 0.0f;
};

// len ≤ 32. q receives the levels in [−nmax, nmax − 1].
Symmetric fit_symmetric(const float* x, const float* w, int len, int nmax, int* q);

float symmetric_error(const float* x, const float* w, int len, int nmax, float s, int* q);

}  // namespace minima::quant::fit
