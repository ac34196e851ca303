#include "train/attention.hpp"

#include <cmath>
#include <cstring>

#include "train/ops.hpp"

namespace minima::train {

void attention_forward(const KernelSet& ks, ThreadPool& pool, GemmWorkspace& ws, GemmPrecision prec,
                       const AttentionDims& d, const float* q, const float* k, const float* v,
                       float* p, float* out) {
  const int64_t t = d.t, hd = d.hd, group = d.h / d.hkv, ldq = d.h * hd, ldk = d.hkv * hd;
  const float scale = 1.0f / std::sqrt(float(hd));
  const int64_t tasks = d.b * d.hkv;
  pool.run([&](int ith, int nth) {
    for (int64_t task = tasks * ith / nth; task < tasks * (ith + 1) / nth; ++task) {
      const int64_t b = task / d.hkv, g = task % d.hkv;
      const float* kg = k + b * t * ldk + g * hd;
      const float* vg = v + b * t * ldk + g * hd;
      for (int64_t hh = g * group; hh < (g + 1) * group; ++hh) {
        const float* qh = q + b * t * ldq + hh * hd;
        float* ph = p + (b * d.h + hh) * t * t;
        sgemm_serial(ks, ws, ith, prec, {false, true, t, t, hd, ldq, ldk, t}, scale, qh, kg, ph,
                     false);
        for (int64_t i = 0; i < t; ++i) causal_softmax_row(ph + i * t, i, t);
        sgemm_serial(ks, ws, ith, prec, {false, false, t, hd, t, t, ldk, ldq}, 1.0f, ph, vg,
                     out + b * t * ldq + hh * hd, false);
      }
    }
  });
}

void attention_backward(const KernelSet& ks, ThreadPool& pool, GemmWorkspace& ws,
                        GemmPrecision prec, const AttentionDims& d, const float* q, const float* k,
                        const float* v, const float* p, const float* dout, float* dq, float* dk,
                        float* dv, float* scratch) {
  const int64_t t = d.t, hd = d.hd, group = d.h / d.hkv, ldq = d.h * hd, ldk = d.hkv * hd;
  const float scale = 1.0f / std::sqrt(float(hd));
  const int64_t tasks = d.b * d.hkv;
  pool.run([&](int ith, int nth) {
    float* dp = scratch + size_t(ith) * size_t(t * t);
    for (int64_t task = tasks * ith / nth; task < tasks * (ith + 1) / nth; ++task) {
      const int64_t b = task / d.hkv, g = task % d.hkv;
      const float* kg = k + b * t * ldk + g * hd;
      const float* vg = v + b * t * ldk + g * hd;
      float* dkg = dk + b * t * ldk + g * hd;
      float* dvg = dv + b * t * ldk + g * hd;
      for (int64_t i = 0; i < t; ++i) {
        std::memset(dkg + i * ldk, 0, size_t(hd) * 4);
        std::memset(dvg + i * ldk, 0, size_t(hd) * 4);
      }
      for (int64_t hh = g * group; hh < (g + 1) * group; ++hh) {
        const float* qh = q + b * t * ldq + hh * hd;
        const float* ph = p + (b * d.h + hh) * t * t;
        const float* doh = dout + b * t * ldq + hh * hd;
        sgemm_serial(ks, ws, ith, prec, {false, true, t, t, hd, ldq, ldk, t}, 1.0f, doh, vg, dp,
                     false);
        sgemm_serial(ks, ws, ith, prec, {true, false, t, hd, t, t, ldq, ldk}, 1.0f, ph, doh, dvg,
                     true);
        for (int64_t i = 0; i < t; ++i) causal_softmax_row_backward(ph + i * t, dp + i * t, i, t);
        sgemm_serial(ks, ws, ith, prec, {false, false, t, hd, t, t, ldk, ldq}, scale, dp, kg,
                     dq + b * t * ldq + hh * hd, false);
        sgemm_serial(ks, ws, ith, prec, {true, false, t, hd, t, t, ldq, ldk}, scale, dp, qh, dkg,
                     true);
      }
    }
  });
}

}  // namespace minima::train
