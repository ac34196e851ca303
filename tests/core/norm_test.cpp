// The RMSNorm kernels against rms_norm_ref. Error bound: the kernels differ from the reference only
// in the order in which the double sum of squares is added up (products of floats are exact in
// double), a relative difference of at most n·2^-53 (< 2^-38 for n < 2^15). Rounded to float,
// mean(x²) then differs by at most 1 ulp (2^-23 relative); + eps, the square root (halves a
// relative error) and the reciprocal add at most one rounding each, so the scales differ by at
// most ~2.5 ulp, and the two float products that follow are the reference's own: 4 ulp of the
// output bounds it with room, and the measured worst is recorded.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/kernels/kernels.hpp"

namespace minima {
namespace {

std::vector<float> values(int64_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

TEST(RmsNorm, MatchesTheReferenceWithinFourUlp) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    double worst = 0.0;
    for (int64_t n :
         {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 128, 896, 2048, 5632}) {
      for (float scale : {1e-3f, 1.0f, 30.0f}) {
        const std::vector<float> x = values(n, scale, uint32_t(n) * 7 + 1);
        const std::vector<float> w = values(n, 1.0f, uint32_t(n) * 7 + 2);
        std::vector<float> ref(x.size()), got(x.size());
        rms_norm_ref(x.data(), w.data(), ref.data(), n, 1e-5f);
        kernels_for(isa).rms_norm(x.data(), w.data(), got.data(), n, 1e-5f);
        for (size_t i = 0; i < got.size(); ++i) {
          const double ulp = std::ldexp(std::fabs(double(ref[i])), -23);
          const double err = std::fabs(double(got[i]) - double(ref[i]));
          ASSERT_LE(err, 4.0 * ulp)
              << isa_name(isa) << ": n " << n << ", scale " << scale << ", element " << i;
          if (ulp > 0) worst = std::max(worst, err / ulp);
        }
      }
    }
    RecordProperty(std::string(isa_name(isa)) + "_worst_ulp", std::to_string(worst));
  }
}

TEST(RmsNorm, InPlaceEqualsOutOfPlaceAndZerosStayZero) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    const RmsNormFn f = kernels_for(isa).rms_norm;
    const std::vector<float> x = values(2048 + 5, 2.0f, 11), w = values(2048 + 5, 1.0f, 12);
    std::vector<float> out(x.size()), in_place = x;
    f(x.data(), w.data(), out.data(), int64_t(x.size()), 1e-6f);
    f(in_place.data(), w.data(), in_place.data(), int64_t(x.size()), 1e-6f);
    EXPECT_EQ(out, in_place) << isa_name(isa);
    std::vector<float> zeros(40, 0.0f), z(40, 1.0f);
    f(zeros.data(), w.data(), z.data(), 40, 1e-6f);
    for (float v : z) EXPECT_EQ(v, 0.0f) << isa_name(isa);
  }
}

// The same row gives the same bits wherever it lies in memory (the sum's order depends on n only).
TEST(RmsNorm, AResultDoesNotDependOnTheRowsAddress) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    const RmsNormFn f = kernels_for(isa).rms_norm;
    const int64_t n = 77;
    const std::vector<float> x = values(n, 1.0f, 21), w = values(n, 1.0f, 22);
    std::vector<float> first(static_cast<size_t>(n));
    f(x.data(), w.data(), first.data(), n, 1e-5f);
    for (int64_t off = 1; off < 17; ++off) {
      std::vector<float> buf(static_cast<size_t>(n + off)), out(static_cast<size_t>(n + off));
      std::copy(x.begin(), x.end(), buf.begin() + off);
      f(buf.data() + off, w.data(), out.data() + off, n, 1e-5f);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(out[size_t(off + i)], first[size_t(i)]) << isa_name(isa) << ": offset " << off;
    }
  }
}

}  // namespace
}  // namespace minima
