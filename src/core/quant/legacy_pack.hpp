// Bit packing of the legacy 32-element formats (internal to core; layouts: legacy_ref.cpp), shared
// by the round-to-nearest reference quantizers and the searching ones.
#pragma once

#include <cstdint>

namespace minima::quant {

inline uint32_t load_qh(const uint8_t qh[4]) {
  return uint32_t(qh[0]) | uint32_t(qh[1]) << 8 | uint32_t(qh[2]) << 16 | uint32_t(qh[3]) << 24;
}

inline void store_qh(uint32_t h, uint8_t qh[4]) {
  for (int i = 0; i < 4; ++i) qh[i] = uint8_t(h >> (8 * i));
}

// q[0..31] = the unsigned 4-bit values of a block, in element order.
inline void unpack_nibbles(const uint8_t* qs, int* q) {
  for (int j = 0; j < 16; ++j) {
    q[j] = qs[j] & 15;
    q[j + 16] = qs[j] >> 4;
  }
}

inline void pack_nibbles(const int* q, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = uint8_t(q[j] | q[j + 16] << 4);
}

// q[0..31] = the unsigned 5-bit values of a block, in element order.
inline void unpack_5bit(const uint8_t* qs, const uint8_t* qh, int* q) {
  unpack_nibbles(qs, q);
  const uint32_t h = load_qh(qh);
  for (int j = 0; j < 32; ++j) q[j] |= int((h >> j) & 1u) << 4;
}

inline void pack_5bit(const int* q, uint8_t* qs, uint8_t* qh) {
  int lo[32];
  uint32_t h = 0;
  for (int j = 0; j < 32; ++j) {
    lo[j] = q[j] & 15;
    h |= uint32_t(q[j] >> 4) << j;
  }
  pack_nibbles(lo, qs);
  store_qh(h, qh);
}

}  // namespace minima::quant
