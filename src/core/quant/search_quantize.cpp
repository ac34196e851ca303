// Weight quantizers that search for the scales (and mins) minimizing the weighted squared error of
// each block, for `minima quantize`. Per format:
//   1. every sub-block gets its best unconstrained fit (fit.hpp: a sweep of starting scales, each
//      refined by alternating least squares and re-rounding);
//   2. the sub-block scales / mins are coded against the block's half-precision super-scale(s);
//      for each sub-block both neighbouring codes of its ideal scale (and min) are tried with the
//      levels re-rounded against the *stored* values, and the pair with the least error is kept,
//      so the file decodes to exactly what was scored.
// Legacy formats have one scale per block: step 1 then the stored half scale.
//
// Weights: the importance of each element of the row (an importance matrix: mean squared input
// activation of that column), or 1 when none is given. With weights w the error minimized is
// Σ w·(x − x̂)², the expected squared error of the layer's output when inputs are uncorrelated.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "core/fp16.hpp"
#include "core/quant/fit.hpp"
#include "core/quant/kquant_pack.hpp"
#include "core/quant/legacy_pack.hpp"
#include "core/quant/quant.hpp"

namespace minima::quant {
namespace {

// Half rounding that stays finite (a huge scale saturates instead of becoming inf).
float half_round(float v, uint16_t* stored) {
  v = std::fmin(std::fmax(v, -65504.0f), 65504.0f);
  *stored = fp32_to_fp16(v);
  return fp16_to_fp32(*stored);
}

// Weights of one block: the importance slice, or uniform where it is absent or all zero (a zero
// total would leave every fit undetermined).
const float* block_weights(const float* imp, int64_t offset, int n, float* buf) {
  if (imp != nullptr) {
    float sum = 0;
    for (int i = 0; i < n; ++i) sum += imp[offset + i];
    if (sum > 0) return imp + offset;
  }
  for (int i = 0; i < n; ++i) buf[i] = 1.0f;
  return buf;
}

// Affine K-quant block: n_sub sub-blocks of len, levels 0..nmax, codes 0..code_max for scales and
// mins. Outputs the codes sc / m, the stored super-scales and the levels q (element order).
void affine_block(const float* x, const float* w, int n_sub, int len, int nmax, int code_max,
                  uint8_t* sc, uint8_t* m, uint16_t* d_store, uint16_t* dmin_store, int* q) {
  fit::Affine f[16];
  float smax = 0, mmax = 0;
  for (int j = 0; j < n_sub; ++j) {
    f[j] = fit::fit_affine(x + j * len, w + j * len, len, nmax, true, q + j * len);
    smax = std::fmax(smax, f[j].s);
    mmax = std::fmax(mmax, -f[j].b);
  }
  const float d = half_round(smax / float(code_max), d_store);
  const float dmin = half_round(mmax / float(code_max), dmin_store);
  int tq[32];
  for (int j = 0; j < n_sub; ++j) {
    const float cs = d > 0 ? f[j].s / d : 0.0f, cm = dmin > 0 ? -f[j].b / dmin : 0.0f;
    const int s0 = std::clamp(int(std::floor(cs)), 0, code_max);
    const int m0 = std::clamp(int(std::floor(cm)), 0, code_max);
    float best = INFINITY;
    for (int a = s0; a <= std::min(s0 + 1, code_max); ++a) {
      for (int c = m0; c <= std::min(m0 + 1, code_max); ++c) {
        const float e = fit::affine_error(x + j * len, w + j * len, len, nmax, d * float(a),
                                          -dmin * float(c), tq);
        if (e < best) {
          best = e;
          sc[j] = uint8_t(a);
          m[j] = uint8_t(c);
          std::memcpy(q + j * len, tq, sizeof(int) * size_t(len));
        }
      }
    }
  }
}

// Symmetric K-quant block: 16 sub-blocks of 16, levels −nmax..nmax−1, signed scale codes
// −code_half..code_half−1 against one half super-scale.
void symmetric_block(const float* x, const float* w, int nmax, int code_half, int* sc,
                     uint16_t* d_store, int* q) {
  fit::Symmetric f[16];
  float smax = 0;
  for (int j = 0; j < 16; ++j) {
    f[j] = fit::fit_symmetric(x + 16 * j, w + 16 * j, 16, nmax, q + 16 * j);
    if (std::fabs(f[j].s) > std::fabs(smax)) smax = f[j].s;
  }
  // The largest scale takes the most negative code, which has one more step than the positive side.
  const float d = half_round(smax / float(-code_half), d_store);
  int tq[16];
  for (int j = 0; j < 16; ++j) {
    const float c = d != 0 ? f[j].s / d : 0.0f;
    const int c0 = std::clamp(int(std::floor(c)), -code_half, code_half - 1);
    float best = INFINITY;
    for (int a = c0; a <= std::min(c0 + 1, code_half - 1); ++a) {
      const float e = fit::symmetric_error(x + 16 * j, w + 16 * j, 16, nmax, d * float(a), tq);
      if (e < best) {
        best = e;
        sc[j] = a;
        std::memcpy(q + 16 * j, tq, sizeof tq);
      }
    }
  }
}

void search_q2_k(const float* x, void* dst, int64_t n, const float* imp) {
  auto* b = static_cast<BlockQ2_K*>(dst);
  float wbuf[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* xb = x + i * QK_K;
    const float* w = block_weights(imp, i * QK_K, QK_K, wbuf);
    uint8_t sc[16], m[16];
    int q[QK_K];
    affine_block(xb, w, 16, 16, 3, 15, sc, m, &b[i].d, &b[i].dmin, q);
    pack_q2k(b[i], sc, m, q);
  }
}

void search_q3_k(const float* x, void* dst, int64_t n, const float* imp) {
  auto* b = static_cast<BlockQ3_K*>(dst);
  float wbuf[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* w = block_weights(imp, i * QK_K, QK_K, wbuf);
    int sc[16], q[QK_K];
    symmetric_block(x + i * QK_K, w, 4, 32, sc, &b[i].d, q);
    pack_q3k(b[i], sc, q);
  }
}

template <bool kFiveBit>
void search_q45_k(const float* x, void* dst, int64_t n, const float* imp) {
  using Block = std::conditional_t<kFiveBit, BlockQ5_K, BlockQ4_K>;
  auto* b = static_cast<Block*>(dst);
  float wbuf[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* w = block_weights(imp, i * QK_K, QK_K, wbuf);
    uint8_t sc[8], m[8];
    int q[QK_K];
    affine_block(x + i * QK_K, w, 8, 32, kFiveBit ? 31 : 15, 63, sc, m, &b[i].d, &b[i].dmin, q);
    if constexpr (kFiveBit)
      pack_q5k(b[i], sc, m, q);
    else
      pack_q4k(b[i], sc, m, q);
  }
}

void search_q6_k(const float* x, void* dst, int64_t n, const float* imp) {
  auto* b = static_cast<BlockQ6_K*>(dst);
  float wbuf[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* w = block_weights(imp, i * QK_K, QK_K, wbuf);
    int sc[16], q[QK_K];
    symmetric_block(x + i * QK_K, w, 32, 128, sc, &b[i].d, q);
    pack_q6k(b[i], sc, q);
  }
}

// Legacy symmetric (Q4_0: nmax 8, Q5_0: nmax 16), stored as q + nmax.
template <typename Block, int kNmax>
void search_legacy_symmetric(const float* x, void* dst, int64_t n, const float* imp) {
  auto* b = static_cast<Block*>(dst);
  float wbuf[32];
  for (int64_t i = 0; i < n / 32; ++i) {
    const float* w = block_weights(imp, i * 32, 32, wbuf);
    int q[32];
    const fit::Symmetric f = fit::fit_symmetric(x + i * 32, w, 32, kNmax, q);
    const float d = half_round(f.s, &b[i].d);
    fit::symmetric_error(x + i * 32, w, 32, kNmax, d, q);
    for (int& v : q) v += kNmax;
    if constexpr (kNmax == 8)
      pack_nibbles(q, b[i].qs);
    else
      pack_5bit(q, b[i].qs, b[i].qh);
  }
}

// Legacy affine (Q4_1: nmax 15, Q5_1: nmax 31): x = d·q + m with a half min of either sign.
template <typename Block, int kNmax>
void search_legacy_affine(const float* x, void* dst, int64_t n, const float* imp) {
  auto* b = static_cast<Block*>(dst);
  float wbuf[32];
  for (int64_t i = 0; i < n / 32; ++i) {
    const float* w = block_weights(imp, i * 32, 32, wbuf);
    int q[32];
    const fit::Affine f = fit::fit_affine(x + i * 32, w, 32, kNmax, false, q);
    const float d = half_round(f.s, &b[i].d), m = half_round(f.b, &b[i].m);
    fit::affine_error(x + i * 32, w, 32, kNmax, d, m, q);
    if constexpr (kNmax == 15)
      pack_nibbles(q, b[i].qs);
    else
      pack_5bit(q, b[i].qs, b[i].qh);
  }
}

}  // namespace

bool quantize_searches(DType t, bool with_importance) {
  switch (t) {
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
      return true;
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
      return with_importance;
    default:
      return false;
  }
}

void quantize_row_search(DType t, const float* src, void* dst, int64_t n, const float* importance) {
  const int64_t bs = type_info(t).block_size;
  if (n % bs != 0)
    throw Error("quantize: a row of " + std::to_string(n) + " elements is not a multiple of " +
                std::string(type_info(t).name) + "'s block of " + std::to_string(bs));
  if (!quantize_searches(t, importance != nullptr)) return quantize_row_ref(t, src, dst, n);
  switch (t) {
    case DType::Q2_K:
      return search_q2_k(src, dst, n, importance);
    case DType::Q3_K:
      return search_q3_k(src, dst, n, importance);
    case DType::Q4_K:
      return search_q45_k<false>(src, dst, n, importance);
    case DType::Q5_K:
      return search_q45_k<true>(src, dst, n, importance);
    case DType::Q6_K:
      return search_q6_k(src, dst, n, importance);
    case DType::Q4_0:
      return search_legacy_symmetric<BlockQ4_0, 8>(src, dst, n, importance);
    case DType::Q5_0:
      return search_legacy_symmetric<BlockQ5_0, 16>(src, dst, n, importance);
    case DType::Q4_1:
      return search_legacy_affine<BlockQ4_1, 15>(src, dst, n, importance);
    case DType::Q5_1:
      return search_legacy_affine<BlockQ5_1, 31>(src, dst, n, importance);
    default:
      return quantize_row_ref(t, src, dst, n);
  }
}

}  // namespace minima::quant
