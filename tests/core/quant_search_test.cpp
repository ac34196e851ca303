// The searching quantizers (core/quant/fit.hpp, quantize_row_search): each fit is at least as good
// as the plain min/max scale it starts from, exact data is recovered exactly, the K-quants beat
// plain rounding on normal and heavy-tailed rows, importance weights move error away from the
// columns that matter, and without importance the legacy types are the reference bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.hpp"
#include "core/quant/fit.hpp"
#include "core/quant/quant.hpp"
#include "quant_test_util.hpp"

namespace minima {
namespace {

std::vector<float> student_t3(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> z(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) {
    const float a = z(rng), b = z(rng), c = z(rng);
    x = z(rng) / std::sqrt(a * a + b * b + c * c);
  }
  return v;
}

double weighted_sq_error(DType t, const std::vector<float>& x, const std::vector<uint8_t>& q,
                         const std::vector<float>& w) {
  const auto y = test::dequantize(t, q.data(), int64_t(x.size()));
  double e = 0;
  for (size_t i = 0; i < x.size(); ++i) e += double(w[i]) * (double(y[i]) - x[i]) * (y[i] - x[i]);
  return e;
}

std::vector<uint8_t> search(DType t, const std::vector<float>& x, const float* imp) {
  std::vector<uint8_t> out(row_size(t, int64_t(x.size())));
  quant::quantize_row_search(t, x.data(), out.data(), int64_t(x.size()), imp);
  return out;
}

TEST(QuantFit, AffineNeverWorseThanPlainStartAndReportsItsError) {
  std::mt19937 rng(7);
  const std::vector<float> w(32, 1.0f);
  for (int nmax : {3, 15, 31}) {
    for (int trial = 0; trial < 200; ++trial) {
      const auto x = trial % 2 ? test::gaussian(32, rng) : student_t3(32, rng);
      float lo = 0, hi = x[0];
      for (float v : x) lo = std::fmin(lo, v), hi = std::fmax(hi, v);
      int q[32], q2[32];
      const float plain =
          quant::fit::affine_error(x.data(), w.data(), 32, nmax, (hi - lo) / float(nmax), lo, q);
      const auto f = quant::fit::fit_affine(x.data(), w.data(), 32, nmax, true, q);
      EXPECT_LE(f.err, plain);
      EXPECT_LE(f.b, 0.0f);
      EXPECT_FLOAT_EQ(f.err, quant::fit::affine_error(x.data(), w.data(), 32, nmax, f.s, f.b, q2));
      for (int i = 0; i < 32; ++i) EXPECT_EQ(q[i], q2[i]);
    }
  }
}

TEST(QuantFit, SymmetricNeverWorseThanPlainStart) {
  std::mt19937 rng(8);
  const std::vector<float> w(16, 1.0f);
  for (int nmax : {4, 8, 16, 32}) {
    for (int trial = 0; trial < 200; ++trial) {
      const auto x = trial % 2 ? test::gaussian(16, rng) : student_t3(16, rng);
      float mx = 0;
      for (float v : x)
        if (std::fabs(v) > std::fabs(mx)) mx = v;
      int q[16];
      const float plain =
          quant::fit::symmetric_error(x.data(), w.data(), 16, nmax, mx / float(-nmax), q);
      const auto f = quant::fit::fit_symmetric(x.data(), w.data(), 16, nmax, q);
      EXPECT_LE(f.err, plain);
      for (int i = 0; i < 16; ++i) {
        EXPECT_GE(q[i], -nmax);
        EXPECT_LE(q[i], nmax - 1);
      }
    }
  }
}

// Data that lies exactly on a grid the format can represent (with a max-range element at both
// ends) must be reproduced with zero error.
TEST(QuantFit, RecoversDataOnAGrid) {
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> level(0, 15);
  const std::vector<float> w(32, 1.0f);
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i)
    x[size_t(i)] = 0.25f * float(i == 0 ? 0 : i == 1 ? 15 : level(rng)) - 1.5f;
  int q[32];
  const auto f = quant::fit::fit_affine(x.data(), w.data(), 32, 15, true, q);
  EXPECT_NEAR(f.err, 0.0f, 1e-10f);
  EXPECT_NEAR(f.s, 0.25f, 1e-6f);
  EXPECT_NEAR(f.b, -1.5f, 1e-6f);
}

TEST(QuantSearch, KQuantsBeatPlainRoundingOnNormalAndHeavyTailedRows) {
  std::mt19937 rng(10);
  const int64_t n = 256 * 64;
  for (int dist = 0; dist < 2; ++dist) {
    const auto x = dist == 0 ? test::gaussian(n, rng) : student_t3(n, rng);
    const std::vector<float> ones(size_t(n), 1.0f);
    for (DType t : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
      const double plain = weighted_sq_error(t, x, test::quantize(t, x.data(), n), ones);
      const double found = weighted_sq_error(t, x, search(t, x, nullptr), ones);
      EXPECT_LT(found, plain) << type_info(t).name << (dist ? " student-t" : " normal");
    }
  }
}

TEST(QuantSearch, LegacyTypesWithoutImportanceAreTheReferenceBytes) {
  std::mt19937 rng(11);
  const auto x = student_t3(32 * 40, rng);
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::F16}) {
    EXPECT_FALSE(quant::quantize_searches(t, false));
    EXPECT_EQ(search(t, x, nullptr), test::quantize(t, x.data(), int64_t(x.size())))
        << type_info(t).name;
  }
}

// With an importance row, the error weighted by that importance must fall compared with the
// unweighted search: the quantizer trades error on unimportant columns for the important ones.
TEST(QuantSearch, ImportanceLowersTheWeightedError) {
  std::mt19937 rng(12);
  const int64_t n = 256 * 32;
  const auto x = test::gaussian(n, rng);
  std::vector<float> imp(static_cast<size_t>(n));
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (auto& v : imp) v = u(rng) < 0.1f ? 50.0f : 0.5f * u(rng);
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                  DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    ASSERT_TRUE(quant::quantize_searches(t, true));
    const double without = weighted_sq_error(t, x, search(t, x, nullptr), imp);
    const double with = weighted_sq_error(t, x, search(t, x, imp.data()), imp);
    EXPECT_LT(with, without) << type_info(t).name;
  }
}

TEST(QuantSearch, SpecialRows) {
  for (DType t : {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const std::vector<float> zeros(256, 0.0f), consts(256, 0.75f);
    for (const auto* x : {&zeros, &consts}) {
      const auto y = test::dequantize(t, search(t, *x, nullptr).data(), 256);
      double e = 0;
      for (size_t i = 0; i < 256; ++i) e = std::max(e, std::fabs(double(y[i]) - (*x)[i]));
      EXPECT_LE(e, 0.75 * 0.02) << type_info(t).name;  // a constant row is close to exact
    }
  }
  // An all-zero importance row falls back to uniform weights instead of an undetermined fit.
  std::mt19937 rng(13);
  const auto x = test::gaussian(256, rng);
  const std::vector<float> zero_imp(256, 0.0f);
  EXPECT_EQ(search(DType::Q4_K, x, zero_imp.data()), search(DType::Q4_K, x, nullptr));
}

TEST(QuantSearch, RowNotAMultipleOfTheBlockIsAnError) {
  const std::vector<float> x(300, 1.0f);
  std::vector<uint8_t> out(4096);
  EXPECT_THROW(quant::quantize_row_search(DType::Q4_K, x.data(), out.data(), 300, nullptr), Error);
}

}  // namespace
}  // namespace minima
