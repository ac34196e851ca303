// Layout tests: hand-built blocks with a few chosen bits set, and the dequantized values those
// bits must produce under the GGUF / ggml layouts. Each expectation is worked out by hand in the
// comment beside it, independently of the implementation, so a misread layout fails here.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/fp16.hpp"
#include "core/quant/kquant_scales.hpp"
#include "core/quant/quant.hpp"

namespace minima {
namespace {

constexpr uint16_t kHalfOne = 0x3C00, kHalfHalf = 0x3800, kHalfTwo = 0x4000;
constexpr uint16_t kHalfMinusOne = 0xBC00, kHalfQuarter = 0x3400;

template <class Block>
std::vector<float> deq(DType t, const Block& b) {
  std::vector<float> out(size_t(type_info(t).block_size));
  quant::dequantize_row_ref(t, &b, out.data(), int64_t(out.size()));
  return out;
}

template <class Block>
Block zeroed() {
  Block b;
  std::memset(&b, 0, sizeof b);
  return b;
}

TEST(Layout, FloatTypes) {
  const uint16_t h[2] = {0x3C00, 0xC000};
  float f[2];
  quant::dequantize_row_ref(DType::F16, h, f, 2);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[1], -2.0f);
  const uint16_t bf[2] = {0x3F80, 0x4049};
  quant::dequantize_row_ref(DType::BF16, bf, f, 2);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[1], 3.140625f);
}

TEST(Layout, Q4_0) {
  auto b = zeroed<BlockQ4_0>();
  b.d = kHalfHalf;
  b.qs[3] = 0xA2;  // element 3 = low nibble 2, element 19 = high nibble 10
  const auto x = deq(DType::Q4_0, b);
  EXPECT_EQ(x[3], (2 - 8) * 0.5f);
  EXPECT_EQ(x[19], (10 - 8) * 0.5f);
  EXPECT_EQ(x[0], -4.0f);  // code 0 = −8·d
}

TEST(Layout, Q4_1) {
  auto b = zeroed<BlockQ4_1>();
  b.d = kHalfHalf;
  b.m = kHalfMinusOne;
  b.qs[0] = 0xF1;
  const auto x = deq(DType::Q4_1, b);
  EXPECT_EQ(x[0], 0.5f * 1 - 1.0f);
  EXPECT_EQ(x[16], 0.5f * 15 - 1.0f);
  EXPECT_EQ(x[1], -1.0f);
}

TEST(Layout, Q5_0) {
  auto b = zeroed<BlockQ5_0>();
  b.d = kHalfOne;
  b.qs[5] = 0x3C;    // element 5 low nibble 12, element 21 high nibble 3
  b.qh[0] = 1 << 5;  // bit 5 -> element 5 gets +16; bit 21 (qh[2] bit 5) stays clear
  b.qs[15] = 0xF0;   // element 31 high nibble 15
  b.qh[3] = 0x80;    // bit 31 -> element 31 gets +16
  const auto x = deq(DType::Q5_0, b);
  EXPECT_EQ(x[5], float((12 | 16) - 16));
  EXPECT_EQ(x[21], float(3 - 16));
  EXPECT_EQ(x[31], float((15 | 16) - 16));
  EXPECT_EQ(x[15], -16.0f);
}

TEST(Layout, Q5_1) {
  auto b = zeroed<BlockQ5_1>();
  b.d = kHalfTwo;
  b.m = kHalfHalf;
  b.qs[2] = 0x07;    // element 2 = 7, element 18 = 0
  b.qh[2] = 1 << 2;  // bit 18 -> element 18 = 16
  const auto x = deq(DType::Q5_1, b);
  EXPECT_EQ(x[2], 2.0f * 7 + 0.5f);
  EXPECT_EQ(x[18], 2.0f * 16 + 0.5f);
}

TEST(Layout, Q8_0AndQ8_1) {
  auto b = zeroed<BlockQ8_0>();
  b.d = kHalfQuarter;
  b.qs[7] = -100;
  EXPECT_EQ(deq(DType::Q8_0, b)[7], -25.0f);
  auto c = zeroed<BlockQ8_1>();
  c.d = kHalfQuarter;
  c.s = kHalfTwo;  // s does not take part in dequantization
  c.qs[31] = 12;
  EXPECT_EQ(deq(DType::Q8_1, c)[31], 3.0f);
}

TEST(Layout, Q2_K) {
  auto b = zeroed<BlockQ2_K>();
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  // Element 80 = sub-block 5; first half, group j = 2 (elements 64..95), l = 16: bits 4–5 of
  // qs[16].
  b.scales[5] = 0x23;  // scale 3, min 2
  b.qs[16] = 2 << 4;
  // Element 200 = sub-block 12; second half, j = 2, l = 8: bits 4–5 of qs[32 + 8].
  b.scales[12] = 0x01;  // scale 1, min 0
  b.qs[40] = 3 << 4;
  // Element 255: sub-block 15, second half, j = 3, l = 31: bits 6–7 of qs[63].
  b.scales[15] = 0xF7;  // scale 7, min 15
  b.qs[63] = 3 << 6;
  const auto x = deq(DType::Q2_K, b);
  EXPECT_EQ(x[80], 1.0f * 3 * 2 - 0.5f * 2);
  EXPECT_EQ(x[81], -0.5f * 2);
  EXPECT_EQ(x[200], 3.0f);
  EXPECT_EQ(x[201], 0.0f);
  EXPECT_EQ(x[255], 1.0f * 7 * 3 - 0.5f * 15);
}

TEST(Layout, Q3_K) {
  auto b = zeroed<BlockQ3_K>();
  b.d = kHalfOne;
  // Scale 13 = −7, stored u = 25 = 0b01'1001: low nibble 9 goes to the high nibble of byte
  // 13 − 8 = 5, high bits 01 to bits 2·(13/4) = 6..7 of byte 8 + 13 % 4 = 9.
  b.scales[5] = 0x90;
  b.scales[9] = 0x40;
  // Scale 0 = 5, u = 37 = 0b10'0101: low nibble of byte 0, bits 0..1 of byte 8.
  b.scales[0] = 0x05;
  b.scales[8] = 0x02;
  // Element 210: sub-block 13, second half, j = 2, l = 18 -> bits 4–5 of qs[32 + 18], hmask
  // bit 4·1 + 2 = 6 of hmask[18].
  b.qs[50] = 1 << 4;
  b.hmask[18] = 1 << 6;
  // Element 0: qs[0] bits 0–1 = 3, hmask[0] bit 0 set -> q = 3.
  b.qs[0] = 3;
  b.hmask[0] = 1;
  const auto x = deq(DType::Q3_K, b);
  EXPECT_EQ(x[210], -7.0f * 1);
  EXPECT_EQ(x[211], -7.0f * -4);  // no bits: q = 0 − 4
  EXPECT_EQ(x[0], 5.0f * 3);
  EXPECT_EQ(x[16], -32.0f * -4);  // sub-block 1: all-zero scale bits = −32
}

TEST(Layout, Q4_K) {
  auto b = zeroed<BlockQ4_K>();
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  // Sub-block 1 (elements 32..63): scale = scales[1] & 63, min = scales[5] & 63. Element 40 is
  // the high nibble of qs[8] (first 64-element chunk, second half of it).
  b.scales[1] = 10;
  b.scales[5] = 4;
  b.qs[8] = 0x70;
  // Sub-block 6 (elements 192..223): scale = (scales[10] & 15) | (scales[2] >> 6) << 4 = 3 | 32,
  // min = (scales[10] >> 4) | (scales[6] >> 6) << 4 = 5 | 16. Element 200 = low nibble of
  // qs[96 + 8].
  b.scales[10] = 0x53;
  b.scales[2] = 0x80;
  b.scales[6] = 0x40;
  b.qs[104] = 0x02;
  const auto x = deq(DType::Q4_K, b);
  EXPECT_EQ(x[40], 1.0f * 10 * 7 - 0.5f * 4);
  EXPECT_EQ(x[8], 0.0f);  // sub-block 0: scale 0, min 0
  EXPECT_EQ(x[200], 1.0f * 35 * 2 - 0.5f * 21);
  EXPECT_EQ(x[2], 0.0f);
}

TEST(Layout, Q5_K) {
  auto b = zeroed<BlockQ5_K>();
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  b.scales[10] = 0x53;  // sub-block 6: scale 35, min 21 (as in the Q4_K test)
  b.scales[2] = 0x80;
  b.scales[6] = 0x40;
  b.scales[11] = 0x01;  // sub-block 7: scale 1, min 0
  // Element 200 = chunk 3 low nibble l = 8; element 232 = chunk 3 high nibble l = 8. Their fifth
  // bits are bits 2·3 = 6 and 7 of qh[8].
  b.qs[104] = 0x42;
  b.qh[8] = 0xC0;
  const auto x = deq(DType::Q5_K, b);
  EXPECT_EQ(x[200], 1.0f * 35 * (2 + 16) - 0.5f * 21);
  EXPECT_EQ(x[232], 1.0f * 1 * (4 + 16));
}

TEST(Layout, Q6_K) {
  auto b = zeroed<BlockQ6_K>();
  b.d = kHalfHalf;
  for (auto& s : b.scales) s = 1;
  // Element 197 = second half, 64 + 5: high nibble of ql[64 + 5], bits 4–5 of qh[32 + 5]; scale
  // 197 / 16 = 12.
  b.ql[69] = 0xA0;
  b.qh[37] = 2 << 4;
  b.scales[12] = -3;
  // Element 49 = first half, 32 + 17: low nibble of ql[49], bits 2–3 of qh[17]; scale 3.
  b.ql[49] = 0x07;
  b.qh[17] = 3 << 2;
  b.scales[3] = 2;
  // Element 127 = 96 + 31: high nibble of ql[63], bits 6–7 of qh[31]; scale 7.
  b.ql[63] = 0xF0;
  b.qh[31] = 3 << 6;
  const auto x = deq(DType::Q6_K, b);
  EXPECT_EQ(x[197], 0.5f * -3 * ((10 | 2 << 4) - 32));
  EXPECT_EQ(x[49], 0.5f * 2 * ((7 | 3 << 4) - 32));
  EXPECT_EQ(x[127], 0.5f * 1 * (63 - 32));
  EXPECT_EQ(x[0], 0.5f * 1 * -32);
}

TEST(Layout, Q8_K) {
  auto b = zeroed<BlockQ8_K>();
  b.d = 0.5f;
  b.qs[100] = -3;
  EXPECT_EQ(deq(DType::Q8_K, b)[100], -1.5f);
}

// The activation quantizers' encodings, pinned on inputs whose result is known exactly.
TEST(Layout, ActivationQuantizers) {
  float x[256] = {};
  x[0] = 127.0f;  // amax 127 -> d = 1
  x[1] = -2.5f;   // tie: Q8_0 rounds half away from zero
  x[2] = 3.5f;
  BlockQ8_0 q0;
  quant::quantize_row_ref(DType::Q8_0, x, &q0, 32);
  EXPECT_EQ(q0.d, kHalfOne);
  EXPECT_EQ(q0.qs[1], -3);
  EXPECT_EQ(q0.qs[2], 4);
  BlockQ8_1 q1;
  quant::quantize_row_ref(DType::Q8_1, x, &q1, 32);
  EXPECT_EQ(fp16_to_fp32(q1.s), 127.0f - 3 + 4);
  x[3] = -127.0f;  // same magnitude later: the first one (+127) keeps the sign -> iscale = −1
  BlockQ8_K k;
  quant::quantize_row_ref(DType::Q8_K, x, &k, 256);
  EXPECT_EQ(k.d, -1.0f);
  EXPECT_EQ(k.qs[0], -127);
  EXPECT_EQ(k.qs[1], 2);  // 2.5 -> nearest even
  EXPECT_EQ(k.qs[2], -4);
  EXPECT_EQ(k.qs[3], 127);
  EXPECT_EQ(k.bsums[0], -127 + 2 - 4 + 127);
  const float zero[256] = {};
  quant::quantize_row_ref(DType::Q8_K, zero, &k, 256);
  EXPECT_EQ(k.d, 0.0f);
  EXPECT_EQ(k.qs[5], 0);
}

// The word-at-a-time scale unpackers used by the SIMD kernels agree with the per-element ones,
// and packing inverts unpacking (used by the weight quantizers).
TEST(Layout, KQuantScaleUnpackersAgree) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int iter = 0; iter < 100000; ++iter) {
    uint8_t s[12];
    for (auto& b : s) b = uint8_t(byte(rng));
    uint8_t sc[8], m[8], sc_w[8], m_w[8];
    quant::unpack_scales_q4k(s, sc, m);
    quant::unpack_scales_q4k_words(s, sc_w, m_w);
    ASSERT_EQ(0, std::memcmp(sc, sc_w, 8));
    ASSERT_EQ(0, std::memcmp(m, m_w, 8));
    uint8_t repacked[12];
    quant::pack_scales_q4k(sc, m, repacked);
    ASSERT_EQ(0, std::memcmp(s, repacked, 12));
    int8_t sc3[16];
    uint8_t codes[16];
    quant::unpack_scales_q3k(s, sc3);
    quant::unpack_scales_q3k_words(s, codes);
    for (int i = 0; i < 16; ++i) ASSERT_EQ(sc3[i], codes[i] - 32) << i;
    quant::pack_scales_q3k(sc3, repacked);
    ASSERT_EQ(0, std::memcmp(s, repacked, 12));
  }
}

}  // namespace
}  // namespace minima
