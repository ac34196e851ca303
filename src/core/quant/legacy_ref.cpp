// "Legacy" 32-element block formats. Every block starts with an IEEE-half scale d (Q4_1 / Q5_1 add
// a half minimum m right after it). Q4_0 / Q4_1 then hold 16 bytes of nibbles: element j of the
// block is the low nibble of byte j and element j+16 the high nibble of byte j. Q5_0 / Q5_1 insert
// 4 bytes qh before the nibbles: read as a little-endian uint32, bit j is the fifth (value 16) bit
// of element j. Values: Q4_0 x = d·(q−8), Q5_0 x = d·(q−16), Q4_1 / Q5_1 x = d·q + m. Q8_0 holds 32
// signed bytes, x = d·q. Q8_1 (the activation partner of Q4_1 / Q5_1) is Q8_0 plus a half s = d·Σq
// stored after d, which folds the weight minimum into one multiply per block in the dot.
//
// Activation quantization (Q8_0 / Q8_1) follows ggml: d = max|x| / 127, q = round-half-away(x ·
// 1/d) computed with the float d, then d is rounded to half for storage. Q8_1's s is d·Σq with the
// float (unrounded) d, then rounded to half. Weight quantizers here are plain rounding with one
// scale per block (no error search), with ggml's rounding steps so that files equal
// llama-quantize's.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.hpp"
#include "core/quant/legacy_pack.hpp"
#include "core/quant/ref_kernels.hpp"

namespace minima::quant::ref {
namespace {

// Round half away from zero into int8, clamped to ±127. The clamp also maps NaN to −127 instead of
// invoking undefined float->int conversion.
int8_t round_q8(float v) {
  v = std::fmin(std::fmax(v, -127.0f), 127.0f);
  return static_cast<int8_t>(std::round(v));
}

// ⌊v⌋ for v in [0, 128) (the int8 truncation of the reference), clamped to [0, hi]; NaN ↦ 0.
int trunc_clamp(float v, int hi) {
  if (!(v >= 0.0f)) return 0;
  return std::min(static_cast<int>(std::fmin(v, 127.0f)), hi);
}

// The weight quantizers reproduce llama-quantize's bytes: the float (unrounded) scale is used to
// compute the levels, which are truncated after adding half a step (x ≥ 0 here, so this is round
// half up), and only then is the scale rounded to half for storage.
//
// Symmetric block: the largest-magnitude element keeps its sign and maps to −half_range, which
// uses the one extra negative level of the offset-binary code. q = ⌊x/d + half_range + ½⌋.
// Returns the unrounded d.
float symmetric_scale(const float* x, int half_range, int* q) {
  float mx = 0.0f, amax = 0.0f;
  for (int j = 0; j < 32; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      mx = x[j];
    }
  }
  const float d = mx / float(-half_range);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < 32; ++j)
    q[j] = trunc_clamp(x[j] * id + (float(half_range) + 0.5f), 2 * half_range - 1);
  return d;
}

// Asymmetric block: d = (max − min) / levels, m = min, q = ⌊(x − m)/d + ½⌋. Returns the unrounded
// d and m.
void affine_scale(const float* x, int levels, int* q, float* d_out, float* m_out) {
  float lo = x[0], hi = x[0];
  for (int j = 1; j < 32; ++j) {
    lo = std::fmin(lo, x[j]);
    hi = std::fmax(hi, x[j]);
  }
  const float d = (hi - lo) / float(levels);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < 32; ++j) q[j] = trunc_clamp((x[j] - lo) * id + 0.5f, levels);
  *d_out = d;
  *m_out = lo;
}

}  // namespace

// ---- dequantize ----

void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / QK4_0; ++i, dst += QK4_0) {
    const float d = fp16_to_fp32(b[i].d);
    int q[32];
    unpack_nibbles(b[i].qs, q);
    for (int j = 0; j < 32; ++j) dst[j] = d * float(q[j] - 8);
  }
}

void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / QK4_1; ++i, dst += QK4_1) {
    const float d = fp16_to_fp32(b[i].d), m = fp16_to_fp32(b[i].m);
    int q[32];
    unpack_nibbles(b[i].qs, q);
    for (int j = 0; j < 32; ++j) dst[j] = d * float(q[j]) + m;
  }
}

void dequantize_q5_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_0*>(src);
  for (int64_t i = 0; i < n / QK5_0; ++i, dst += QK5_0) {
    const float d = fp16_to_fp32(b[i].d);
    int q[32];
    unpack_5bit(b[i].qs, b[i].qh, q);
    for (int j = 0; j < 32; ++j) dst[j] = d * float(q[j] - 16);
  }
}

void dequantize_q5_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_1*>(src);
  for (int64_t i = 0; i < n / QK5_1; ++i, dst += QK5_1) {
    const float d = fp16_to_fp32(b[i].d), m = fp16_to_fp32(b[i].m);
    int q[32];
    unpack_5bit(b[i].qs, b[i].qh, q);
    for (int j = 0; j < 32; ++j) dst[j] = d * float(q[j]) + m;
  }
}

void dequantize_q8_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / QK8_0; ++i, dst += QK8_0) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < 32; ++j) dst[j] = d * float(b[i].qs[j]);
  }
}

void dequantize_q8_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_1*>(src);
  for (int64_t i = 0; i < n / QK8_1; ++i, dst += QK8_1) {
    const float d = fp16_to_fp32(b[i].d);
    for (int j = 0; j < 32; ++j) dst[j] = d * float(b[i].qs[j]);
  }
}

// ---- quantize ----

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / QK8_0; ++i, src += QK8_0) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(src[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < 32; ++j) b[i].qs[j] = round_q8(src[j] * id);
    b[i].d = fp32_to_fp16(d);
  }
}

void quantize_q8_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / QK8_1; ++i, src += QK8_1) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(src[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
      b[i].qs[j] = round_q8(src[j] * id);
      sum += b[i].qs[j];
    }
    b[i].d = fp32_to_fp16(d);
    b[i].s = fp32_to_fp16(d * float(sum));
  }
}

void quantize_q4_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_0*>(dst);
  for (int64_t i = 0; i < n / QK4_0; ++i, src += QK4_0) {
    int q[32];
    b[i].d = fp32_to_fp16(symmetric_scale(src, 8, q));
    pack_nibbles(q, b[i].qs);
  }
}

void quantize_q5_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_0*>(dst);
  for (int64_t i = 0; i < n / QK5_0; ++i, src += QK5_0) {
    int q[32];
    b[i].d = fp32_to_fp16(symmetric_scale(src, 16, q));
    pack_5bit(q, b[i].qs, b[i].qh);
  }
}

void quantize_q4_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ4_1*>(dst);
  for (int64_t i = 0; i < n / QK4_1; ++i, src += QK4_1) {
    int q[32];
    float d, m;
    affine_scale(src, 15, q, &d, &m);
    b[i].d = fp32_to_fp16(d);
    b[i].m = fp32_to_fp16(m);
    pack_nibbles(q, b[i].qs);
  }
}

void quantize_q5_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ5_1*>(dst);
  for (int64_t i = 0; i < n / QK5_1; ++i, src += QK5_1) {
    int q[32];
    float d, m;
    affine_scale(src, 31, q, &d, &m);
    b[i].d = fp32_to_fp16(d);
    b[i].m = fp32_to_fp16(m);
    pack_5bit(q, b[i].qs, b[i].qh);
  }
}

// ---- dot products: exact integer sum per block, then one float term per block ----

float dot_q4_0(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK4_0; ++i) {
    int q[32];
    unpack_nibbles(x[i].qs, q);
    int sumi = 0;
    for (int j = 0; j < 32; ++j) sumi += (q[j] - 8) * y[i].qs[j];
    sum += (fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d)) * float(sumi);
  }
  return sum;
}

float dot_q5_0(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK5_0; ++i) {
    int q[32];
    unpack_5bit(x[i].qs, x[i].qh, q);
    int sumi = 0;
    for (int j = 0; j < 32; ++j) sumi += (q[j] - 16) * y[i].qs[j];
    sum += (fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d)) * float(sumi);
  }
  return sum;
}

float dot_q8_0(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK8_0; ++i) {
    int sumi = 0;
    for (int j = 0; j < 32; ++j) sumi += x[i].qs[j] * y[i].qs[j];
    sum += (fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d)) * float(sumi);
  }
  return sum;
}

// With x = d_w·q + m and a = d_a·q_a: Σ x·a = d_w·d_a·Σ q·q_a + m·(d_a·Σ q_a) = ... + m·s.
float dot_q4_1(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK4_1; ++i) {
    int q[32];
    unpack_nibbles(x[i].qs, q);
    int sumi = 0;
    for (int j = 0; j < 32; ++j) sumi += q[j] * y[i].qs[j];
    sum += (fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d)) * float(sumi) +
           fp16_to_fp32(x[i].m) * fp16_to_fp32(y[i].s);
  }
  return sum;
}

float dot_q5_1(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK5_1; ++i) {
    int q[32];
    unpack_5bit(x[i].qs, x[i].qh, q);
    int sumi = 0;
    for (int j = 0; j < 32; ++j) sumi += q[j] * y[i].qs[j];
    sum += (fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d)) * float(sumi) +
           fp16_to_fp32(x[i].m) * fp16_to_fp32(y[i].s);
  }
  return sum;
}

}  // namespace minima::quant::ref
