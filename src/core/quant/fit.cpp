#include "core/quant/fit.hpp"

#include <algorithm>
#include <cmath>

namespace minima::quant::fit {
namespace {

constexpr int kRefineRounds = 3;

// Round to nearest (ties to even) by the 1.5·2²³ trick: plain SSE2 arithmetic, where nearbyint
// is a library call on baseline x86-64. Valid for |v| < 2²², far beyond any level here; the clamp
// comes first so huge or infinite inputs stay in range (NaN becomes lo).
int round_clamp(float v, int lo, int hi) {
  v = v > float(lo) ? v : float(lo);
  v = v < float(hi) ? v : float(hi);
  return static_cast<int>((v + 12582912.0f) - 12582912.0f);
}

// The weighted sums the normal equations of a least-squares (s, b) need for given levels q:
// Σw, Σwq, Σwq², Σwx, Σwxq.
struct Sums {
  float sw = 0, sq = 0, sqq = 0, sx = 0, sxq = 0;
};

Sums sums_of(const float* x, const float* w, int len, const int* q) {
  Sums m;
  for (int i = 0; i < len; ++i) {
    const float l = float(q[i]), wl = w[i] * l;
    m.sw += w[i];
    m.sq += wl;
    m.sqq += wl * l;
    m.sx += w[i] * x[i];
    m.sxq += wl * x[i];
  }
  return m;
}

// Optimal (s, b) for the summed levels; false when they are all equal (no unique fit). err: the
// error of that fit for those levels, Σw·x² − s·Σwxq − b·Σwx (the residual of a least-squares
// solution), which re-rounding against (s, b) can only lower.
bool solve_affine(const Sums& m, float swxx, bool non_positive_b, float* s, float* b, float* err) {
  const float det = m.sw * m.sqq - m.sq * m.sq;
  if (!(det > 0) || !(m.sqq > 0)) return false;
  float ss = (m.sw * m.sxq - m.sq * m.sx) / det, bb = (m.sqq * m.sx - m.sq * m.sxq) / det;
  if (non_positive_b && bb > 0) {
    bb = 0;
    ss = m.sxq / m.sqq;
  }
  if (!(ss > 0)) return false;
  *s = ss;
  *b = bb;
  // Σw(x − s·q − b)² expanded; exact for any (s, b), not only the unconstrained optimum.
  *err =
      swxx - 2 * ss * m.sxq - 2 * bb * m.sx + ss * ss * m.sqq + 2 * ss * bb * m.sq + bb * bb * m.sw;
  return true;
}

}  // namespace

float affine_error(const float* x, const float* w, int len, int nmax, float s, float b, int* q) {
  const float is = s > 0 ? 1.0f / s : 0.0f;
  float e = 0;
  for (int i = 0; i < len; ++i) {
    q[i] = round_clamp((x[i] - b) * is, 0, nmax);
    const float d = s * float(q[i]) + b - x[i];
    e += w[i] * d * d;
  }
  return e;
}

Affine fit_affine(const float* x, const float* w, int len, int nmax, bool non_positive_b, int* q) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < len; ++i) {
    lo = std::fmin(lo, x[i]);
    hi = std::fmax(hi, x[i]);
  }
  if (non_positive_b) lo = std::fmin(lo, 0.0f);
  Affine best;
  if (hi <= lo) {  // constant block: exact with s = anything, q = 0
    best.s = 0.0f;
    best.b = lo;
    for (int i = 0; i < len; ++i) q[i] = 0;
    best.err = affine_error(x, w, len, nmax, 0.0f, lo, q);
    return best;
  }
  best.s = (hi - lo) / float(nmax);
  best.b = lo;
  best.err = affine_error(x, w, len, nmax, best.s, best.b, q);
  float swxx = 0;
  for (int i = 0; i < len; ++i) swxx += w[i] * x[i] * x[i];
  // Starting points: the levels that map [lo, hi] onto [0, nmax + k/8] for k = −12..12, each
  // followed by the least-squares step for those levels (scored by the closed-form error).
  float best_s = best.s, best_b = best.b, best_e = best.err;
  for (int k = -12; k <= 12; ++k) {
    const float iscale = (float(nmax) + 0.125f * float(k)) / (hi - lo);
    if (iscale <= 0) continue;
    int lv[32];
    for (int i = 0; i < len; ++i) lv[i] = round_clamp((x[i] - lo) * iscale, 0, nmax);
    const Sums m = sums_of(x, w, len, lv);
    float s, b, e;
    if (solve_affine(m, swxx, non_positive_b, &s, &b, &e) && e < best_e) {
      best_s = s;
      best_b = b;
      best_e = e;
    }
  }
  if (best_s != best.s || best_b != best.b) {
    int tq[32];
    const float e = affine_error(x, w, len, nmax, best_s, best_b, tq);
    if (e < best.err) best = {best_s, best_b, e};
  }
  int tq[32];
  // Alternate levels and (s, b) from the best start until E stops falling.
  for (int r = 0; r < kRefineRounds; ++r) {
    affine_error(x, w, len, nmax, best.s, best.b, tq);
    const Sums m = sums_of(x, w, len, tq);
    float s, b, e0;
    if (!solve_affine(m, swxx, non_positive_b, &s, &b, &e0)) break;
    const float e = affine_error(x, w, len, nmax, s, b, tq);
    if (!(e < best.err)) break;
    best = {s, b, e};
  }
  best.err = affine_error(x, w, len, nmax, best.s, best.b, q);
  return best;
}

float symmetric_error(const float* x, const float* w, int len, int nmax, float s, int* q) {
  const float is = s != 0 ? 1.0f / s : 0.0f;
  float e = 0;
  for (int i = 0; i < len; ++i) {
    q[i] = round_clamp(x[i] * is, -nmax, nmax - 1);
    const float d = s * float(q[i]) - x[i];
    e += w[i] * d * d;
  }
  return e;
}

Symmetric fit_symmetric(const float* x, const float* w, int len, int nmax, int* q) {
  float mx = 0.0f;
  for (int i = 0; i < len; ++i)
    if (std::fabs(x[i]) > std::fabs(mx)) mx = x[i];
  Symmetric best;
  if (mx == 0.0f) {
    for (int i = 0; i < len; ++i) q[i] = 0;
    return best;
  }
  // The plain start: the largest-magnitude element on the most negative level (one more level
  // there than on the positive side).
  best.s = mx / float(-nmax);
  best.err = symmetric_error(x, w, len, nmax, best.s, q);
  float swxx = 0;
  for (int i = 0; i < len; ++i) swxx += w[i] * x[i] * x[i];
  // Starts: the extreme element on level −(nmax + k/8) or +(nmax − 1 + k/8), each followed by the
  // least-squares scale Σwxq / Σwq², whose error is Σwx² − (Σwxq)² / Σwq².
  float best_s = best.s, best_e = best.err;
  for (int sign = -1; sign <= 1; sign += 2) {
    for (int k = sign < 0 ? -16 : -8; k <= (sign < 0 ? 8 : 4); ++k) {
      const float target = float(sign) * (float(sign < 0 ? nmax : nmax - 1) + 0.125f * float(k));
      if (target == 0) continue;
      const float iscale = target / mx;
      float sxq = 0, sqq = 0;
      for (int i = 0; i < len; ++i) {
        const float l = float(round_clamp(x[i] * iscale, -nmax, nmax - 1));
        sxq += w[i] * x[i] * l;
        sqq += w[i] * l * l;
      }
      if (!(sqq > 0) || sxq == 0) continue;
      const float e = swxx - sxq * sxq / sqq;
      if (e < best_e) {
        best_e = e;
        best_s = sxq / sqq;
      }
    }
  }
  int tq[32];
  if (best_s != best.s) {
    const float e = symmetric_error(x, w, len, nmax, best_s, tq);
    if (e < best.err) best = {best_s, e};
  }
  for (int r = 0; r < kRefineRounds; ++r) {
    symmetric_error(x, w, len, nmax, best.s, tq);
    float sxq = 0, sqq = 0;
    for (int i = 0; i < len; ++i) {
      sxq += w[i] * x[i] * float(tq[i]);
      sqq += w[i] * float(tq[i]) * float(tq[i]);
    }
    if (!(sqq > 0) || sxq == 0) break;
    const float e = symmetric_error(x, w, len, nmax, sxq / sqq, tq);
    if (!(e < best.err)) break;
    best = {sxq / sqq, e};
  }
  best.err = symmetric_error(x, w, len, nmax, best.s, q);
  return best;
}

}  // namespace minima::quant::fit
