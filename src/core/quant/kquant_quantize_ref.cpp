// Simple K-quant weight quantizers (layouts: kquant_ref.cpp). Two passes per 256-element block:
// (1) per sub-block, the float scale (and min) that round-to-nearest would want: asymmetric types
// (Q2_K, Q4_K, Q5_K) span [min(0, lo), hi] with x = scale·q − min, symmetric types (Q3_K, Q6_K)
// map the largest-magnitude element, sign kept, to the most negative level; (2) those scales are
// quantized against one half-precision super-scale (largest scale ↦ top code), and the elements
// are rounded against the *stored* effective scale and min so dequantization matches what was
// chosen. No error search: this writes test models, quality quantizers come later.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.hpp"
#include "core/quant/kquant_pack.hpp"
#include "core/quant/ref_kernels.hpp"

namespace minima::quant::ref {
namespace {

int round_clamp(float v, int lo, int hi) {
  const float c = std::fmin(std::fmax(std::round(v), float(lo)), float(hi));
  return static_cast<int>(c);
}

// Asymmetric sub-blocks of `len` elements, quants 0..levels, scales/mins coded 0..scale_max.
// Outputs: the coded scales sc[], mins m[], the stored d / dmin and q[] (element order).
void quantize_affine(const float* x, int n_sub, int len, int levels, int scale_max, uint8_t* sc,
                     uint8_t* m, uint16_t* d_out, uint16_t* dmin_out, int* q) {
  float fs[16], fm[16], smax = 0.0f, mmax = 0.0f;
  for (int s = 0; s < n_sub; ++s) {
    float lo = 0.0f, hi = x[s * len];
    for (int l = s * len; l < (s + 1) * len; ++l) {
      lo = std::fmin(lo, x[l]);
      hi = std::fmax(hi, x[l]);
    }
    fs[s] = (hi - lo) / float(levels);
    fm[s] = -lo;
    smax = std::fmax(smax, fs[s]);
    mmax = std::fmax(mmax, fm[s]);
  }
  *d_out = fp32_to_fp16(smax / float(scale_max));
  *dmin_out = fp32_to_fp16(mmax / float(scale_max));
  const float d = fp16_to_fp32(*d_out), dmin = fp16_to_fp32(*dmin_out);
  for (int s = 0; s < n_sub; ++s) {
    sc[s] = uint8_t(d > 0.0f ? round_clamp(fs[s] / d, 0, scale_max) : 0);
    m[s] = uint8_t(dmin > 0.0f ? round_clamp(fm[s] / dmin, 0, scale_max) : 0);
    const float step = d * float(sc[s]), offset = dmin * float(m[s]);
    const float istep = step > 0.0f ? 1.0f / step : 0.0f;
    for (int l = s * len; l < (s + 1) * len; ++l) {
      q[l] = round_clamp((x[l] + offset) * istep, 0, levels);
    }
  }
}

// Symmetric sub-blocks: quants −half..half−1, signed scales −scale_half..scale_half−1.
void quantize_symmetric(const float* x, int n_sub, int len, int half, int scale_half, int* sc,
                        uint16_t* d_out, int* q) {
  float fs[16], smax = 0.0f;
  for (int s = 0; s < n_sub; ++s) {
    float mx = 0.0f;
    for (int l = s * len; l < (s + 1) * len; ++l) {
      if (std::fabs(x[l]) > std::fabs(mx)) mx = x[l];
    }
    fs[s] = mx / float(-half);
    if (std::fabs(fs[s]) > std::fabs(smax)) smax = fs[s];
  }
  *d_out = fp32_to_fp16(smax / float(-scale_half));
  const float d = fp16_to_fp32(*d_out);
  for (int s = 0; s < n_sub; ++s) {
    sc[s] = d != 0.0f ? round_clamp(fs[s] / d, -scale_half, scale_half - 1) : 0;
    const float step = d * float(sc[s]);
    const float istep = step != 0.0f ? 1.0f / step : 0.0f;
    for (int l = s * len; l < (s + 1) * len; ++l) q[l] = round_clamp(x[l] * istep, -half, half - 1);
  }
}

}  // namespace

void quantize_q2_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ2_K*>(dst);
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    uint8_t sc[16], m[16];
    int q[QK_K];
    quantize_affine(src, 16, 16, 3, 15, sc, m, &b[i].d, &b[i].dmin, q);
    pack_q2k(b[i], sc, m, q);
  }
}

void quantize_q3_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ3_K*>(dst);
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    int sc[16], q[QK_K];
    quantize_symmetric(src, 16, 16, 4, 32, sc, &b[i].d, q);
    pack_q3k(b[i], sc, q);
  }
}

void quantize_q4_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_K*>(dst);
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    uint8_t sc[8], m[8];
    int q[QK_K];
    quantize_affine(src, 8, 32, 15, 63, sc, m, &b[i].d, &b[i].dmin, q);
    pack_q4k(b[i], sc, m, q);
  }
}

void quantize_q5_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_K*>(dst);
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    uint8_t sc[8], m[8];
    int q[QK_K];
    quantize_affine(src, 8, 32, 31, 63, sc, m, &b[i].d, &b[i].dmin, q);
    pack_q5k(b[i], sc, m, q);
  }
}

void quantize_q6_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ6_K*>(dst);
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    int sc[16], q[QK_K];
    quantize_symmetric(src, 16, 16, 32, 128, sc, &b[i].d, q);
    pack_q6k(b[i], sc, q);
  }
}

}  // namespace minima::quant::ref
