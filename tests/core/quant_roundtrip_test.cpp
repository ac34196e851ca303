// quantize_row_ref -> dequantize_row_ref round trips.
//
// Weight types: a round-to-nearest quantizer with step s per (sub-)block leaves an error that is
// close to uniform on ±s/2, i.e. RMS s/√12. The test computes that prediction from the input
// itself (s = block amax / levels for symmetric formats, (max − min(0, min)) / levels for the
// affine ones, per the format's sub-block size) and requires measured ≤ 1.25 × predicted. On
// Gaussian data the measured/predicted ratio is 0.94–1.02 for every type; the 25 % margin covers
// what the model ignores: rounding of the 4/6/8-bit sub-block scale codes against the
// half-precision super-scale, the clipped top code of symmetric formats, and the half rounding of
// d itself. F16 / BF16: each element's relative error is at most the unit roundoff (2^-11 / 2^-9),
// so the relative RMS is too. F32 is exact.
//
// Activation types: every element must satisfy the per-element bound derived in the comments of
// the Q8 tests below.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "quant_test_util.hpp"

namespace minima {
namespace {

struct StepRule {
  int len = 0;           // elements sharing one step
  bool affine = false;   // range includes min(0, min) (K-quants) / the block min (Q4_1, Q5_1)
  bool zero_in = false;  // affine range forced to include 0 (K-quants with x = d·sc·q − dmin·m)
  double levels = 0;     // steps across the range
};

StepRule step_rule(DType t) {
  switch (t) {
    case DType::Q8_0:
      return {32, false, false, 127};
    case DType::Q4_0:
      return {32, false, false, 8};
    case DType::Q5_0:
      return {32, false, false, 16};
    case DType::Q4_1:
      return {32, true, false, 15};
    case DType::Q5_1:
      return {32, true, false, 31};
    case DType::Q2_K:
      return {16, true, true, 3};
    case DType::Q3_K:
      return {16, false, false, 4};
    case DType::Q4_K:
      return {32, true, true, 15};
    case DType::Q5_K:
      return {32, true, true, 31};
    case DType::Q6_K:
      return {16, false, false, 32};
    default:
      return {};
  }
}

// Predicted mean squared error Σ s_b²/12 · len over the blocks of x.
double predicted_sq_error(DType t, const std::vector<float>& x) {
  const StepRule r = step_rule(t);
  double total = 0;
  for (size_t b = 0; b < x.size(); b += size_t(r.len)) {
    double lo = r.zero_in ? 0.0 : x[b], hi = r.zero_in ? 0.0 : x[b], amax = 0;
    for (int l = 0; l < r.len; ++l) {
      lo = std::min(lo, double(x[b + l]));
      hi = std::max(hi, double(x[b + l]));
      amax = std::max(amax, std::fabs(double(x[b + l])));
    }
    const double s = (r.affine ? hi - lo : amax) / r.levels;
    total += r.len * s * s / 12;
  }
  return total;
}

double sq_error(const std::vector<float>& x, const std::vector<float>& y) {
  double e = 0;
  for (size_t i = 0; i < x.size(); ++i) e += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
  return e;
}

double sq_norm(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += double(v) * v;
  return s;
}

std::vector<float> round_trip(DType t, const std::vector<float>& x) {
  const auto q = test::quantize(t, x.data(), int64_t(x.size()));
  return test::dequantize(t, q.data(), int64_t(x.size()));
}

// Inputs: Gaussian at several scales, and a heavy-tailed mix (Gaussian with 1 % outliers ×20).
std::vector<std::vector<float>> inputs(std::mt19937& rng) {
  std::vector<std::vector<float>> v;
  for (float sigma : {1.0f, 1e-3f, 300.0f}) v.push_back(test::gaussian(4096, rng, sigma));
  auto heavy = test::gaussian(4096, rng);
  std::uniform_int_distribution<int> pick(0, 99);
  for (auto& e : heavy) e *= pick(rng) == 0 ? 20.0f : 1.0f;
  v.push_back(heavy);
  return v;
}

TEST(QuantRoundTrip, WeightTypesWithinUniformNoiseModel) {
  std::mt19937 rng(42);
  for (const auto& x : inputs(rng)) {
    for (DType t : test::weight_types()) {
      const auto y = round_trip(t, x);
      const double rel = std::sqrt(sq_error(x, y) / sq_norm(x));
      SCOPED_TRACE(std::string(type_name(uint32_t(t))));
      if (t == DType::F32) {
        EXPECT_EQ(rel, 0.0);
      } else if (t == DType::F16) {
        EXPECT_LE(rel, std::ldexp(1.0, -11));
      } else if (t == DType::BF16) {
        EXPECT_LE(rel, std::ldexp(1.0, -9));
      } else {
        const double predicted = std::sqrt(predicted_sq_error(t, x) / sq_norm(x));
        EXPECT_LE(rel, 1.25 * predicted) << "predicted " << predicted;
        EXPECT_GT(predicted, 0.0);
      }
    }
  }
}

TEST(QuantRoundTrip, SpecialRows) {
  const int64_t n = 512;
  for (DType t : test::weight_types()) {
    SCOPED_TRACE(std::string(type_name(uint32_t(t))));
    const std::vector<float> zeros(n, 0.0f);
    EXPECT_EQ(round_trip(t, zeros), zeros);
    // Constant rows and a lone spike: valid blocks, finite values, the spike's sign and rough
    // size survive.
    for (float c : {1.0f, -3.0f}) {
      const std::vector<float> flat(n, c);
      for (float v : round_trip(t, flat)) ASSERT_NEAR(v, c, std::fabs(c) * 0.5f);
    }
    std::vector<float> spike(n, 0.0f);
    spike[300] = -7.0f;
    const auto y = round_trip(t, spike);
    EXPECT_NEAR(y[300], -7.0f, 0.5f);
    for (float v : y) ASSERT_TRUE(std::isfinite(v));
  }
}

// Q8_0 / Q8_1: with d_f = amax/127 the float scale and d its half rounding, q = round(x·(1/d_f)):
// |x − d·q| ≤ |x − d_f·q| + |d_f − d|·|q| ≤ d_f·(1/2 + ~254u) + 2^-11·d_f·127. Q8_K keeps d in
// float: |x − d·q| ≤ |d|·(1/2 + ~254u). (u = 2^-24; 300u used for slack; d normal in half.)
TEST(QuantRoundTrip, ActivationQuantizersErrorPerElement) {
  std::mt19937 rng(3);
  const double u = test::kFloatEps;
  for (float sigma : {1.0f, 50.0f}) {
    const auto x = test::gaussian(2048, rng, sigma);
    for (DType t : {DType::Q8_0, DType::Q8_1}) {
      const auto y = round_trip(t, x);
      for (size_t b = 0; b < x.size(); b += 32) {
        double amax = 0;
        for (int l = 0; l < 32; ++l) amax = std::max(amax, std::fabs(double(x[b + l])));
        const double d_f = amax / 127;
        const double bound = d_f * (0.5 + 300 * u + 127 * std::ldexp(1.0, -11));
        for (int l = 0; l < 32; ++l) ASSERT_LE(std::fabs(double(x[b + l]) - y[b + l]), bound);
      }
    }
    const auto q = test::quantize(DType::Q8_K, x.data(), int64_t(x.size()));
    const auto y = test::dequantize(DType::Q8_K, q.data(), int64_t(x.size()));
    const auto* blocks = reinterpret_cast<const BlockQ8_K*>(q.data());
    for (size_t i = 0; i < x.size(); ++i) {
      const double bound = std::fabs(double(blocks[i / 256].d)) * (0.5 + 300 * u);
      ASSERT_LE(std::fabs(double(x[i]) - y[i]), bound) << i;
    }
  }
}

}  // namespace
}  // namespace minima
