// Writing K-quant blocks from chosen codes and levels (internal to core; layouts: kquant_ref.cpp).
// Shared by the plain reference quantizers and the searching ones, which differ only in how they
// choose the scales and levels. The caller sets the half super-scales (d, dmin).
//   sc / m: sub-block scale and min codes; q: the 256 levels in element order (Q3_K: −4..3,
//   Q6_K: −32..31, the others unsigned).
#pragma once

#include <cstdint>
#include <cstring>

#include "core/quant/kquant_scales.hpp"
#include "core/quant/types.hpp"

namespace minima::quant {

inline void pack_q2k(BlockQ2_K& b, const uint8_t* sc, const uint8_t* m, const int* q) {
  for (int s = 0; s < 16; ++s) b.scales[s] = uint8_t(sc[s] | m[s] << 4);
  std::memset(b.qs, 0, sizeof b.qs);
  for (int e = 0; e < QK_K; ++e) {  // e = 128h + 32j + l
    const int h = e / 128, j = (e / 32) % 4, l = e % 32;
    b.qs[32 * h + l] = uint8_t(b.qs[32 * h + l] | q[e] << (2 * j));
  }
}

inline void pack_q3k(BlockQ3_K& b, const int* sc, const int* q) {
  int8_t sc8[16];
  for (int s = 0; s < 16; ++s) sc8[s] = int8_t(sc[s]);
  pack_scales_q3k(sc8, b.scales);
  std::memset(b.qs, 0, sizeof b.qs);
  std::memset(b.hmask, 0, sizeof b.hmask);
  for (int e = 0; e < QK_K; ++e) {
    const int h = e / 128, j = (e / 32) % 4, l = e % 32, u = q[e] + 4;
    b.qs[32 * h + l] = uint8_t(b.qs[32 * h + l] | (u & 3) << (2 * j));
    b.hmask[l] = uint8_t(b.hmask[l] | (u >> 2) << (4 * h + j));
  }
}

inline void pack_q4k(BlockQ4_K& b, const uint8_t* sc, const uint8_t* m, const int* q) {
  pack_scales_q4k(sc, m, b.scales);
  for (int k = 0; k < 4; ++k)
    for (int l = 0; l < 32; ++l)
      b.qs[32 * k + l] = uint8_t(q[64 * k + l] | q[64 * k + 32 + l] << 4);
}

inline void pack_q5k(BlockQ5_K& b, const uint8_t* sc, const uint8_t* m, const int* q) {
  pack_scales_q4k(sc, m, b.scales);
  std::memset(b.qh, 0, sizeof b.qh);
  for (int k = 0; k < 4; ++k) {
    for (int l = 0; l < 32; ++l) {
      const int lo = q[64 * k + l], hi = q[64 * k + 32 + l];
      b.qs[32 * k + l] = uint8_t((lo & 15) | (hi & 15) << 4);
      b.qh[l] = uint8_t(b.qh[l] | (lo >> 4) << (2 * k) | (hi >> 4) << (2 * k + 1));
    }
  }
}

inline void pack_q6k(BlockQ6_K& b, const int* sc, const int* q) {
  for (int s = 0; s < 16; ++s) b.scales[s] = int8_t(sc[s]);
  for (int h = 0; h < 2; ++h) {
    const int* u = q + 128 * h;  // biased by +32 below
    for (int l = 0; l < 32; ++l) {
      const int u0 = u[l] + 32, u1 = u[l + 32] + 32, u2 = u[l + 64] + 32, u3 = u[l + 96] + 32;
      b.ql[64 * h + l] = uint8_t((u0 & 15) | (u2 & 15) << 4);
      b.ql[64 * h + l + 32] = uint8_t((u1 & 15) | (u3 & 15) << 4);
      b.qh[32 * h + l] = uint8_t(u0 >> 4 | (u1 >> 4) << 2 | (u2 >> 4) << 4 | (u3 >> 4) << 6);
    }
  }
}

}  // namespace minima::quant
