// Packed sub-block scales of the K-quant formats (internal to core). Shared by the reference
// kernels, the weight quantizers and the SIMD kernels (which unpack once per 256-element block
// with the word-at-a-time variants at the end: a dozen integer operations).
//
// Q4_K / Q5_K: 12 bytes hold eight 6-bit scales sc[j] and eight 6-bit mins m[j]. Bytes 0–3 carry
// sc[0..3] in their low 6 bits, bytes 4–7 carry m[0..3] likewise; the top two bits of bytes 0–3 /
// 4–7 are bits 4–5 of sc[4..7] / m[4..7], whose low nibbles sit in bytes 8–11 (sc low, m high).
//
// Q3_K: 12 bytes hold sixteen 6-bit scales u[i] stored with a +32 bias (value = u − 32). The low
// nibble of u[i] is the low nibble of byte i for i < 8 and the high nibble of byte i−8 for i >= 8;
// bits 4–5 of u[i] are bits 2·(i/4) .. 2·(i/4)+1 of byte 8 + i%4.
#pragma once

#include <cstdint>
#include <cstring>

namespace minima::quant {

inline void unpack_scales_q4k(const uint8_t* s, uint8_t* sc, uint8_t* m) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 63;
    m[j] = s[j + 4] & 63;
    sc[j + 4] = uint8_t((s[j + 8] & 15) | (s[j] >> 6) << 4);
    m[j + 4] = uint8_t((s[j + 8] >> 4) | (s[j + 4] >> 6) << 4);
  }
}

// sc, m: values 0..63.
inline void pack_scales_q4k(const uint8_t* sc, const uint8_t* m, uint8_t* s) {
  for (int j = 0; j < 4; ++j) {
    s[j] = uint8_t(sc[j] | (sc[j + 4] >> 4) << 6);
    s[j + 4] = uint8_t(m[j] | (m[j + 4] >> 4) << 6);
    s[j + 8] = uint8_t((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
  }
}

// sc: the sixteen signed scales, −32..31.
inline void unpack_scales_q3k(const uint8_t* s, int8_t* sc) {
  for (int i = 0; i < 16; ++i) {
    const int lo = i < 8 ? s[i] & 15 : s[i - 8] >> 4;
    const int hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
    sc[i] = int8_t((lo | hi << 4) - 32);
  }
}

inline void pack_scales_q3k(const int8_t* sc, uint8_t* s) {
  for (int i = 0; i < 12; ++i) s[i] = 0;
  for (int i = 0; i < 16; ++i) {
    const int u = sc[i] + 32;
    s[i % 8] = uint8_t(s[i % 8] | (u & 15) << (i < 8 ? 0 : 4));
    s[8 + i % 4] = uint8_t(s[8 + i % 4] | (u >> 4) << (2 * (i / 4)));
  }
}

// Word-at-a-time versions of the two unpackers above, for the SIMD kernels (same results; the
// tests compare them on random bytes). Little-endian byte order, as everywhere in GGUF.
inline void unpack_scales_q4k_words(const uint8_t* s, uint8_t* sc, uint8_t* m) {
  uint32_t w[3];
  std::memcpy(w, s, 12);
  const uint32_t low6 = 0x3F3F3F3Fu, low4 = 0x0F0F0F0Fu, low2 = 0x03030303u;
  const uint32_t out[4] = {w[0] & low6, (w[2] & low4) | ((w[0] >> 6) & low2) << 4, w[1] & low6,
                           ((w[2] >> 4) & low4) | ((w[1] >> 6) & low2) << 4};
  std::memcpy(sc, out, 8);
  std::memcpy(m, out + 2, 8);
}

// u: the sixteen stored 6-bit codes (scale + 32), 0..63.
inline void unpack_scales_q3k_words(const uint8_t* s, uint8_t* u) {
  uint64_t a;
  uint32_t b;
  std::memcpy(&a, s, 8);
  std::memcpy(&b, s + 8, 4);
  const uint64_t low4 = 0x0F0F0F0F0F0F0F0Full;
  const uint32_t low2 = 0x03030303u;
  const uint64_t hi_first = uint64_t(b & low2) | uint64_t((b >> 2) & low2) << 32;
  const uint64_t hi_second = uint64_t((b >> 4) & low2) | uint64_t((b >> 6) & low2) << 32;
  const uint64_t out[2] = {(a & low4) | hi_first << 4, ((a >> 4) & low4) | hi_second << 4};
  std::memcpy(u, out, 16);
}

}  // namespace minima::quant
