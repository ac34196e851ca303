// Scalar IEEE half and bfloat16 conversions: the reference definitions that the fast (F16C /
// AVX-512) paths are tested against. Round-to-nearest-even on the narrowing side, like ggml and
// the hardware instructions.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace minima {

inline float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal half -> normal float
      int e = -1;
      do {
        mant <<= 1;
        ++e;
      } while ((mant & 0x400u) == 0);
      bits = sign | uint32_t(127 - 15 - e) << 23 | (mant & 0x3FFu) << 13;
    }
  } else if (exp == 0x1F) {
    // inf, or a NaN: payload kept, quiet bit forced (a signalling NaN comes out quiet, as F16C's
    // VCVTPH2PS does).
    bits = sign | 0x7F800000u | mant << 13 | (mant != 0 ? 0x00400000u : 0u);
  } else {
    bits = sign | (exp + (127 - 15)) << 23 | mant << 13;
  }
  return std::bit_cast<float>(bits);
}

inline uint16_t fp32_to_fp16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7FFFFFFFu;
  // NaN: the top 10 payload bits survive and the quiet bit is forced, as in F16C's VCVTPS2PH.
  if (ax > 0x7F800000u) return uint16_t(sign | 0x7E00u | ((ax >> 13) & 0x3FFu));
  if (ax >= 0x477FF000u) return uint16_t(sign | 0x7C00u);  // rounds to inf
  if (ax < 0x38800000u) {                                  // subnormal half or zero
    // Add 0.5 (as a float) so the FPU does the round-to-nearest-even of the low bits.
    const float r = std::bit_cast<float>(ax) + 0.5f;
    return uint16_t(sign | (std::bit_cast<uint32_t>(r) - 0x3F000000u));
  }
  const uint32_t mant_odd = (ax >> 13) & 1u;
  const uint32_t v = ax + 0xC8000FFFu + mant_odd;  // rebias exponent and round to nearest even
  return uint16_t(sign | (v >> 13));
}

inline float bf16_to_fp32(uint16_t h) {
  return std::bit_cast<float>(uint32_t(h) << 16);
}

inline uint16_t fp32_to_bf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return uint16_t((x >> 16) | 64u);  // quiet nan
  return uint16_t((x + (0x7FFFu + ((x >> 16) & 1u))) >> 16);
}

}  // namespace minima
