// vec_dot_ref against exact arithmetic.
//
// (3) Against Σ deq(w)_i · deq(a)_i in double. The reference adds, per block, terms of the form
// (float product of two scales) × (exact integer sum converted to float) — each with at most
// three roundings — and sums them recursively: the classic bound |error| ≤ γ_{k}·Σ|terms| with
// k = (number of terms) + 3 + 1, and Σ|terms| ≤ M = Σ_i |a_i|·(|w_i − o_i| + |o_i|) where o is
// the min/offset part of w (test::dot_magnitude). We use (terms + 8)·u·M. Q4_1 / Q5_1 take the
// activation sum from Q8_1's separately rounded s instead of d·Σq, which adds exactly
// Σ_b |m_b|·|s_b − d_b·Σq_b| (computed from the blocks).
//
// (4) Against Σ w_i · x_i with the unquantized activation x: the bound of (3) plus
// Σ_i |w_i|·e_i where e_i bounds |x_i − deq(q8(x))_i| (derivation in quant_roundtrip_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "quant_test_util.hpp"

namespace minima {
namespace {

double exact_dot(const std::vector<float>& w, const std::vector<float>& a) {
  double s = 0;
  for (size_t i = 0; i < w.size(); ++i) s += double(w[i]) * a[i];
  return s;
}

// Σ_b |m_b|·|s_b − d_b·Σq_b| for Q4_1 / Q5_1 weights against Q8_1; 0 otherwise.
double q8_1_sum_error(DType wt, const std::vector<uint8_t>& w, const std::vector<uint8_t>& a) {
  if (wt != DType::Q4_1 && wt != DType::Q5_1) return 0.0;
  const size_t wsize = type_info(wt).type_size;
  const auto* ab = reinterpret_cast<const BlockQ8_1*>(a.data());
  double total = 0;
  for (size_t b = 0; b < a.size() / sizeof(BlockQ8_1); ++b) {
    uint16_t m;
    std::memcpy(&m, w.data() + b * wsize + 2, 2);
    int sum = 0;
    for (int8_t q : ab[b].qs) sum += q;
    const double s_exact = double(fp16_to_fp32(ab[b].d)) * sum;
    total +=
        std::fabs(double(fp16_to_fp32(m))) * std::fabs(double(fp16_to_fp32(ab[b].s)) - s_exact);
  }
  return total;
}

double ref_tolerance(DType wt, const std::vector<uint8_t>& w, const std::vector<uint8_t>& a,
                     const std::vector<float>& a_deq) {
  const auto n = int64_t(a_deq.size());
  const double m = test::dot_magnitude(wt, w, a_deq);
  return double(test::dot_terms(wt, n) + 8) * test::kFloatEps * m + q8_1_sum_error(wt, w, a);
}

TEST(QuantDot, RefMatchesExactDotOfDequantizedRows) {
  std::mt19937 rng(11);
  for (DType wt : test::weight_types()) {
    const DType at = type_info(wt).vec_dot_type;
    const int64_t bs = type_info(wt).block_size == 1 ? 32 : type_info(wt).block_size;
    for (int64_t blocks : {1, 2, 3, 8}) {
      for (bool extreme : {false, true}) {
        const int64_t n = blocks * bs;
        const auto w = test::random_row(wt, n, rng, extreme);
        std::vector<uint8_t> a;
        if (at == DType::F32) {
          const auto x = test::gaussian(n, rng);
          a.assign(reinterpret_cast<const uint8_t*>(x.data()),
                   reinterpret_cast<const uint8_t*>(x.data() + n));
        } else {
          a = test::random_row(at, n, rng, extreme, /*as_activation=*/true);
        }
        const auto wd = test::dequantize(wt, w.data(), n);
        const auto ad = test::dequantize(at, a.data(), n);
        const double got = quant::vec_dot_ref(wt, w.data(), a.data(), n);
        const double tol = ref_tolerance(wt, w, a, ad);
        ASSERT_LE(std::fabs(got - exact_dot(wd, ad)), tol)
            << type_name(uint32_t(wt)) << " n=" << n << " extreme=" << extreme;
      }
    }
  }
}

// Per-element bound on |x − deq(q(x))| for activation type at (see quant_roundtrip_test.cpp).
std::vector<double> activation_error_bound(DType at, const std::vector<float>& x,
                                           const std::vector<uint8_t>& q) {
  std::vector<double> e(x.size(), 0.0);
  const double u = test::kFloatEps;
  if (at == DType::Q8_K) {
    const auto* b = reinterpret_cast<const BlockQ8_K*>(q.data());
    for (size_t i = 0; i < x.size(); ++i) e[i] = std::fabs(double(b[i / 256].d)) * (0.5 + 300 * u);
  } else if (at == DType::Q8_0 || at == DType::Q8_1) {
    for (size_t b = 0; b < x.size(); b += 32) {
      double amax = 0;
      for (int l = 0; l < 32; ++l) amax = std::max(amax, std::fabs(double(x[b + l])));
      const double bound = amax / 127 * (0.5 + 300 * u + 127 * std::ldexp(1.0, -11));
      std::fill(e.begin() + long(b), e.begin() + long(b) + 32, bound);
    }
  }
  return e;
}

TEST(QuantDot, RefMatchesFloatDotWithinActivationQuantization) {
  std::mt19937 rng(12);
  for (DType wt : test::weight_types()) {
    const DType at = type_info(wt).vec_dot_type;
    for (int64_t n : {256, 1024}) {
      const auto wx = test::gaussian(n, rng);
      const auto w = test::quantize(wt, wx.data(), n);
      const auto x = test::gaussian(n, rng, 2.0f);
      const auto a = test::quantize(at, x.data(), n);
      const auto wd = test::dequantize(wt, w.data(), n);
      const auto ad = test::dequantize(at, a.data(), n);
      const auto e = activation_error_bound(at, x, a);
      double quant_err = 0;
      for (int64_t i = 0; i < n; ++i) quant_err += std::fabs(double(wd[i])) * e[i];
      const double tol = ref_tolerance(wt, w, a, ad) + quant_err;
      const double got = quant::vec_dot_ref(wt, w.data(), a.data(), n);
      EXPECT_LE(std::fabs(got - exact_dot(wd, x)), tol) << type_name(uint32_t(wt)) << " n=" << n;
      // The bound is not vacuous: it is far below the dot's scale.
      EXPECT_LT(tol, 0.05 * test::dot_magnitude(wt, w, ad)) << type_name(uint32_t(wt));
    }
  }
}

TEST(QuantDot, ActivationTypesHaveNoDot) {
  const float x[256] = {};
  std::vector<uint8_t> q(sizeof(BlockQ8_K));
  EXPECT_THROW(quant::vec_dot_ref(DType::Q8_K, q.data(), q.data(), 256), Error);
  EXPECT_THROW(quant::quantize_row_ref(DType::Q4_0, x, q.data(), 31), Error);
}

}  // namespace
}  // namespace minima
