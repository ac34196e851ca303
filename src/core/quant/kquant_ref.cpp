// K-quant formats: 256-element super-blocks split into sub-blocks with small integer scales, which
// are themselves scaled by one or two IEEE-half factors (d for scales, dmin for mins).
//
// Q2_K (84 B): 16 scale bytes (sub-block i = elements 16i..16i+15; low nibble scale, high nibble
// min), 64 bytes of 2-bit quants, then d and dmin; x = d·sc·q − dmin·m. Each 128-element half
// uses 32 quant bytes: bits 2j..2j+1 of byte l hold element 32j + l of that half. Q3_K (110 B):
// hmask[32], the same 2-bit qs[64] layout, 12 bytes of packed 6-bit scales (kquant_scales.hpp),
// d; q = low2 − 4 when bit (4h + j) of hmask[l] is clear, x = d·sc·q. Q4_K (144 B): d, dmin, 12
// bytes of 6-bit scales/mins for 8 sub-blocks of 32, then qs[128]: each 64 elements use 32 bytes,
// low nibbles first 32, high nibbles next 32; x = d·sc·q − dmin·m. Q5_K (176 B) inserts qh[32]
// before qs: bit 2k of qh[l] is the fifth bit of element 64k + l and bit 2k+1 of element
// 64k + 32 + l. Q6_K (210 B): ql[128], qh[64], 16 int8 scales (sub-block of 16 each), d; per
// 128-element half, 64 ql bytes and 32 qh bytes: element l (< 32) = ql[l] low nibble with qh[l]
// bits 0–1, l+32 = ql[l+32] low with bits 2–3, l+64 = ql[l] high with bits 4–5, l+96 = ql[l+32]
// high with bits 6–7; q − 32, x = d·sc·q. Q8_K (292 B, activations only): float d, 256 int8,
// sixteen int16 sums of 16 consecutive quants.
//
// Dequantized values are exact functions of the block: d (half, 11 significant bits) times a 6–8
// bit scale times a 2–6 bit quant fits in float's 24-bit significand, so only the final minus of
// the min rounds and compilers may fuse it (FMA) without changing any result.
#include <cmath>
#include <cstring>

#include "core/fp16.hpp"
#include "core/quant/kquant_scales.hpp"
#include "core/quant/ref_kernels.hpp"

namespace minima::quant::ref {
namespace {

// Quant values of one block in element order.
void unpack_q2k(const BlockQ2_K& b, int* q) {  // 0..3
  for (int h = 0; h < 2; ++h) {
    for (int j = 0; j < 4; ++j) {
      for (int l = 0; l < 32; ++l) q[128 * h + 32 * j + l] = (b.qs[32 * h + l] >> (2 * j)) & 3;
    }
  }
}

void unpack_q3k(const BlockQ3_K& b, int* q) {  // -4..3
  for (int h = 0; h < 2; ++h) {
    for (int j = 0; j < 4; ++j) {
      for (int l = 0; l < 32; ++l) {
        const int low = (b.qs[32 * h + l] >> (2 * j)) & 3;
        const int high = (b.hmask[l] >> (4 * h + j)) & 1;
        q[128 * h + 32 * j + l] = low + 4 * high - 4;
      }
    }
  }
}

void unpack_q4k_quants(const uint8_t* qs, int* q) {  // 0..15
  for (int k = 0; k < 4; ++k) {
    for (int l = 0; l < 32; ++l) {
      q[64 * k + l] = qs[32 * k + l] & 15;
      q[64 * k + 32 + l] = qs[32 * k + l] >> 4;
    }
  }
}

void unpack_q5k_quants(const BlockQ5_K& b, int* q) {  // 0..31
  unpack_q4k_quants(b.qs, q);
  for (int k = 0; k < 4; ++k) {
    for (int l = 0; l < 32; ++l) {
      q[64 * k + l] |= ((b.qh[l] >> (2 * k)) & 1) << 4;
      q[64 * k + 32 + l] |= ((b.qh[l] >> (2 * k + 1)) & 1) << 4;
    }
  }
}

void unpack_q6k(const BlockQ6_K& b, int* q) {  // -32..31
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    int* o = q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      o[l] = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
      o[l + 32] = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
      o[l + 64] = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
      o[l + 96] = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
    }
  }
}

// Σ q·qa over elements [first, first + len).
int isum(const int* q, const int8_t* qa, int first, int len) {
  int s = 0;
  for (int l = first; l < first + len; ++l) s += q[l] * qa[l];
  return s;
}

}  // namespace

// ---- dequantize ----

void dequantize_q2_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ2_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    const float d = fp16_to_fp32(b[i].d), dmin = fp16_to_fp32(b[i].dmin);
    int q[QK_K];
    unpack_q2k(b[i], q);
    for (int s = 0; s < 16; ++s) {
      const float dl = d * float(b[i].scales[s] & 15), ml = dmin * float(b[i].scales[s] >> 4);
      for (int l = 16 * s; l < 16 * s + 16; ++l) dst[l] = dl * float(q[l]) - ml;
    }
  }
}

void dequantize_q3_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ3_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    const float d = fp16_to_fp32(b[i].d);
    int8_t sc[16];
    unpack_scales_q3k(b[i].scales, sc);
    int q[QK_K];
    unpack_q3k(b[i], q);
    for (int s = 0; s < 16; ++s) {
      const float dl = d * float(sc[s]);
      for (int l = 16 * s; l < 16 * s + 16; ++l) dst[l] = dl * float(q[l]);
    }
  }
}

namespace {

// Q4_K and Q5_K share everything but the quant unpacking.
void dequantize_4k5k(float d, float dmin, const uint8_t* scales, const int* q, float* dst) {
  uint8_t sc[8], m[8];
  unpack_scales_q4k(scales, sc, m);
  for (int s = 0; s < 8; ++s) {
    const float dl = d * float(sc[s]), ml = dmin * float(m[s]);
    for (int l = 32 * s; l < 32 * s + 32; ++l) dst[l] = dl * float(q[l]) - ml;
  }
}

}  // namespace

void dequantize_q4_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    int q[QK_K];
    unpack_q4k_quants(b[i].qs, q);
    dequantize_4k5k(fp16_to_fp32(b[i].d), fp16_to_fp32(b[i].dmin), b[i].scales, q, dst);
  }
}

void dequantize_q5_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    int q[QK_K];
    unpack_q5k_quants(b[i], q);
    dequantize_4k5k(fp16_to_fp32(b[i].d), fp16_to_fp32(b[i].dmin), b[i].scales, q, dst);
  }
}

void dequantize_q6_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    const float d = fp16_to_fp32(b[i].d);
    int q[QK_K];
    unpack_q6k(b[i], q);
    for (int s = 0; s < 16; ++s) {
      const float dl = d * float(b[i].scales[s]);
      for (int l = 16 * s; l < 16 * s + 16; ++l) dst[l] = dl * float(q[l]);
    }
  }
}

void dequantize_q8_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i, dst += QK_K) {
    for (int l = 0; l < QK_K; ++l) dst[l] = b[i].d * float(b[i].qs[l]);
  }
}

// ---- Q8_K activation quantizer ----
// The largest-magnitude element (first one on ties) keeps its sign and maps to −127; the others
// round to nearest-even (the FPU's default, so SIMD can match bit for bit). An all-zero block
// stores d = 0 and zero quants.
void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / QK_K; ++i, src += QK_K) {
    float amax = 0.0f, mx = 0.0f;
    for (int l = 0; l < QK_K; ++l) {
      if (std::fabs(src[l]) > amax) {
        amax = std::fabs(src[l]);
        mx = src[l];
      }
    }
    if (amax == 0.0f) {
      std::memset(&b[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = -127.0f / mx;
    for (int l = 0; l < QK_K; ++l) {
      const float v = std::fmin(std::fmax(iscale * src[l], -127.0f), 127.0f);
      b[i].qs[l] = static_cast<int8_t>(std::nearbyint(v));
    }
    for (int s = 0; s < 16; ++s) {
      int sum = 0;
      for (int l = 16 * s; l < 16 * s + 16; ++l) sum += b[i].qs[l];
      b[i].bsums[s] = static_cast<int16_t>(sum);
    }
    b[i].d = 1.0f / iscale;
  }
}

// ---- dot products with Q8_K: exact integer sums per block, float across blocks ----
// Σ x·a = d_a·(d·Σ_s sc_s·Σ q·q_a − dmin·Σ_s m_s·Σ q_a); the Σ q_a per sub-block are the bsums.

float dot_q2_k(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int q[QK_K];
    unpack_q2k(x[i], q);
    int sumi = 0, summ = 0;
    for (int s = 0; s < 16; ++s) {
      sumi += (x[i].scales[s] & 15) * isum(q, y[i].qs, 16 * s, 16);
      summ += (x[i].scales[s] >> 4) * y[i].bsums[s];
    }
    sum += (y[i].d * fp16_to_fp32(x[i].d)) * float(sumi) -
           (y[i].d * fp16_to_fp32(x[i].dmin)) * float(summ);
  }
  return sum;
}

float dot_q3_k(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int q[QK_K];
    unpack_q3k(x[i], q);
    int8_t sc[16];
    unpack_scales_q3k(x[i].scales, sc);
    int sumi = 0;
    for (int s = 0; s < 16; ++s) sumi += sc[s] * isum(q, y[i].qs, 16 * s, 16);
    sum += (y[i].d * fp16_to_fp32(x[i].d)) * float(sumi);
  }
  return sum;
}

namespace {

float dot_4k5k_block(float d, float dmin, const uint8_t* scales, const int* q, const BlockQ8_K& y) {
  uint8_t sc[8], m[8];
  unpack_scales_q4k(scales, sc, m);
  int sumi = 0, summ = 0;
  for (int s = 0; s < 8; ++s) {
    sumi += sc[s] * isum(q, y.qs, 32 * s, 32);
    summ += m[s] * (y.bsums[2 * s] + y.bsums[2 * s + 1]);
  }
  return (y.d * d) * float(sumi) - (y.d * dmin) * float(summ);
}

}  // namespace

float dot_q4_k(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int q[QK_K];
    unpack_q4k_quants(x[i].qs, q);
    sum += dot_4k5k_block(fp16_to_fp32(x[i].d), fp16_to_fp32(x[i].dmin), x[i].scales, q, y[i]);
  }
  return sum;
}

float dot_q5_k(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int q[QK_K];
    unpack_q5k_quants(x[i], q);
    sum += dot_4k5k_block(fp16_to_fp32(x[i].d), fp16_to_fp32(x[i].dmin), x[i].scales, q, y[i]);
  }
  return sum;
}

float dot_q6_k(const void* w, const void* a, int64_t n) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int q[QK_K];
    unpack_q6k(x[i], q);
    int sumi = 0;
    for (int s = 0; s < 16; ++s) sumi += x[i].scales[s] * isum(q, y[i].qs, 16 * s, 16);
    sum += (y[i].d * fp16_to_fp32(x[i].d)) * float(sumi);
  }
  return sum;
}

}  // namespace minima::quant::ref
