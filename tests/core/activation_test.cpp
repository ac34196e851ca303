// The SwiGLU activation kernels against silu_mul_ref: within the error bound of
// avx512_activation.cpp, and each element's value independent of n and of its position.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/kernels/kernels.hpp"

namespace minima {
namespace {

std::vector<float> gate_values() {
  std::vector<float> g = {0.0f,  -0.0f,  1e-30f, -1e-30f, 1.0f,  -1.0f,  10.0f,  -10.0f,
                          30.0f, -30.0f, 87.0f,  -87.0f,  88.5f, -88.5f, 100.0f, -100.0f,
                          5e-8f, -5e-8f, 0.693f, -0.693f, 1e-3f, -1e-3f, 20.5f,  -20.5f};
  std::mt19937 rng(7);
  std::normal_distribution<float> d(0.0f, 4.0f);
  for (int i = 0; i < 4000; ++i) g.push_back(d(rng));
  return g;
}

TEST(SiluMul, MatchesTheReferenceWithinEightUlp) {
  const std::vector<float> g0 = gate_values();
  std::vector<float> up(g0.size());
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (float& u : up) u = d(rng);
  std::vector<float> ref = g0;
  silu_mul_ref(ref.data(), up.data(), int64_t(ref.size()));
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    std::vector<float> got = g0;
    kernels_for(isa).silu_mul(got.data(), up.data(), int64_t(got.size()));
    double worst = 0.0;
    for (size_t i = 0; i < got.size(); ++i) {
      // 8 ulp of the result (float spacing at |ref| is at most 2^-23·|ref|), plus an absolute
      // 1e-36 for the saturated e^-x below x = -88 (the header's note).
      const double bound = 8.0 * std::ldexp(std::fabs(double(ref[i])), -23) + 1e-36;
      const double err = std::fabs(double(got[i]) - double(ref[i]));
      ASSERT_LE(err, bound) << isa_name(isa) << ": gate " << g0[i] << ", up " << up[i];
      if (std::fabs(ref[i]) > 1e-30f)
        worst = std::max(worst, err / std::ldexp(std::fabs(double(ref[i])), -23));
    }
    RecordProperty(std::string(isa_name(isa)) + "_worst_ulp", std::to_string(worst));
  }
}

TEST(SiluMul, AnElementsValueDoesNotDependOnNOrPosition) {
  const std::vector<float> g0 = gate_values();
  std::vector<float> up(g0.size(), 1.5f);
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    const SiluMulFn f = kernels_for(isa).silu_mul;
    std::vector<float> full(g0.begin(), g0.begin() + 40);
    f(full.data(), up.data(), 40);
    for (int64_t off = 0; off < 5; ++off)
      for (int64_t n = 1; n + off <= 40; ++n) {
        std::vector<float> part(g0.begin() + off, g0.begin() + off + n);
        f(part.data(), up.data(), n);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(part[size_t(i)], full[size_t(off + i)])
              << isa_name(isa) << ": n " << n << ", offset " << off << ", element " << i;
      }
  }
}

}  // namespace
}  // namespace minima
