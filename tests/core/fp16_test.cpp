// core/fp16.hpp against the hardware: every half -> float must equal F16C's VCVTPH2PS bit for bit,
// and float -> half must equal VCVTPS2PH with round-to-nearest-even on every rounding tie and its
// neighbours, subnormals, overflow, infinities, NaN payloads and a large sweep of bit patterns.
// BF16 has no hardware here (no AVX512_BF16); it is checked against an independent
// compare-the-remainder rounding.
#include "core/fp16.hpp"

#include <gtest/gtest.h>
#include <immintrin.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/kernels/kernels.hpp"

namespace minima {
namespace {

__attribute__((target("f16c"))) float hw_to_float(uint16_t h) {
  return _cvtsh_ss(h);
}

__attribute__((target("f16c"))) uint16_t hw_to_half(float f) {
  return uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}

#define REQUIRE_F16C() \
  if (!cpu_supports(Isa::Avx2)) GTEST_SKIP() << "CPU has no F16C (AVX2 path)"

TEST(Fp16, EveryHalfToFloatMatchesF16C) {
  REQUIRE_F16C();
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint32_t want = std::bit_cast<uint32_t>(hw_to_float(uint16_t(h)));
    const uint32_t got = std::bit_cast<uint32_t>(fp16_to_fp32(uint16_t(h)));
    ASSERT_EQ(got, want) << "half 0x" << std::hex << h;
  }
}

void expect_same_half(float f) {
  ASSERT_EQ(fp32_to_fp16(f), hw_to_half(f))
      << "float " << f << " (0x" << std::hex << std::bit_cast<uint32_t>(f) << ")";
}

TEST(Fp16, FloatToHalfMatchesF16COnTiesAndNeighbours) {
  REQUIRE_F16C();
  // The exact midpoint between consecutive halves needs 12 significant bits, so it is a float:
  // these are precisely the round-to-nearest-even ties, including subnormal ones and the
  // 65504/65536 overflow boundary (half 0x7BFF and 0x7C00 = inf).
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const double lo = fp16_to_fp32(uint16_t(h)), hi = fp16_to_fp32(uint16_t(h + 1));
    for (float sign : {1.0f, -1.0f}) {
      const float mid = sign * float((lo + hi) / 2);
      expect_same_half(mid);
      expect_same_half(std::nextafter(mid, 0.0f));
      expect_same_half(std::nextafter(mid, sign * INFINITY));
      expect_same_half(sign * float(lo));
    }
  }
}

TEST(Fp16, FloatToHalfMatchesF16COnEdgesAndSweep) {
  REQUIRE_F16C();
  const float edges[] = {0.0f,
                         -0.0f,
                         std::numeric_limits<float>::denorm_min(),
                         std::numeric_limits<float>::min(),
                         std::numeric_limits<float>::max(),
                         -std::numeric_limits<float>::max(),
                         INFINITY,
                         -INFINITY,
                         65504.0f,
                         65519.996f,
                         65520.0f,
                         1e10f,
                         std::ldexp(1.0f, -24),
                         std::ldexp(1.0f, -25),
                         std::ldexp(1.5f, -25),
                         std::ldexp(1.0f, -26),
                         std::ldexp(1.0f, -14),
                         std::nextafter(std::ldexp(1.0f, -14), 0.0f)};
  for (float f : edges) expect_same_half(f);
  // NaNs: quiet and signalling, with payload bits above and below the 10 that survive.
  for (uint32_t bits : {0x7FC00000u, 0xFFC00000u, 0x7F800001u, 0x7FA00000u, 0xFF802000u,
                        0x7FFFFFFFu, 0x7F801FFFu, 0x7FC0E000u}) {
    expect_same_half(std::bit_cast<float>(bits));
  }
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 1021) {
    expect_same_half(std::bit_cast<float>(uint32_t(bits)));
  }
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> e(-30.0f, 17.0f), u(-1.0f, 1.0f);
  for (int i = 0; i < 1000000; ++i) expect_same_half(u(rng) * std::exp2(e(rng)));
}

// Independent RNE: look at the 16 dropped bits.
uint16_t bf16_expected(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if (std::isnan(f)) return uint16_t((x >> 16) | 0x40);
  uint32_t keep = x >> 16;
  const uint32_t rest = x & 0xFFFF;
  if (rest > 0x8000 || (rest == 0x8000 && (keep & 1))) ++keep;
  return uint16_t(keep);
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds up to inf
  EXPECT_EQ(fp32_to_bf16(-INFINITY), 0xFF80);
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3F808000u)), 0x3F80);  // tie, even stays
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3F818000u)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x7F800001u)), 0x7FC0);  // sNaN -> quiet
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 997) {
    const float f = std::bit_cast<float>(uint32_t(bits));
    ASSERT_EQ(fp32_to_bf16(f), bf16_expected(f)) << std::hex << bits;
  }
  for (uint32_t h = 0; h < 65536; ++h) {
    ASSERT_EQ(std::bit_cast<uint32_t>(bf16_to_fp32(uint16_t(h))), h << 16);
    if (!std::isnan(bf16_to_fp32(uint16_t(h)))) {
      ASSERT_EQ(fp32_to_bf16(bf16_to_fp32(uint16_t(h))), h);
    }
  }
}

}  // namespace
}  // namespace minima
