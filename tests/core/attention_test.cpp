// Attention tiles: the AVX2 kernel and the scalar reference against a double-precision softmax
// attention computed directly (all scores materialized).
//
// Error bound per output element (derived): a score carries at most (hd + 2)·u·S relative-to-S
// error, S = scale·Σ_d |q_d·k_d| (float dot + scaling, u = 2^-24); exp adds <= 4u relative (the
// polynomial's ~2 ulp plus rounding of the argument); the online rescaling by alpha adds a few u
// per block. A relative error e on every softmax weight moves a convex combination of values by
// <= 2e·max|v|, and summing n weighted rows in float adds n·u·max|v|. So
//   |out - exact| <= max|v| · (2·(2·(hd + 2)·u·S_max + 8u + 4u·blocks) + (n + hdv)·u)
// with a factor 2 of slack for the final 1/l scaling; the test asserts that bound.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/attention.hpp"
#include "core/kernels/kernels.hpp"

namespace minima {
namespace {

constexpr double kU = 1.0 / (1 << 24);

struct Case {
  int64_t hd, hdv, n_rows, n_ctx;
  std::vector<int64_t> limits;
  float q_scale;
};

void run_case(const Case& c, AttentionFn fn, const char* what) {
  std::mt19937 rng(static_cast<unsigned>(c.hd * 131 + c.n_ctx * 7 + c.n_rows));
  std::normal_distribution<float> nd;
  const int64_t kt_stride =
      (c.n_ctx + 7) / 8 * 8 + 8;  // a little extra, like a real cache's padding
  const int64_t q_stride = c.hd + 3, v_stride = c.hdv + 5, out_stride = c.hdv + 1;
  std::vector<float> q(static_cast<size_t>(c.n_rows * q_stride)),
      kt(static_cast<size_t>(c.hd * kt_stride)), v(static_cast<size_t>(c.n_ctx * v_stride)),
      out(static_cast<size_t>(c.n_rows * out_stride), 7.0f);
  for (auto& x : q) x = nd(rng) * c.q_scale;
  for (auto& x : kt) x = nd(rng);
  for (auto& x : v) x = nd(rng);
  std::vector<float> scratch(kAttnScratchFloats);
  AttentionTile t;
  t.q = q.data();
  t.q_stride = q_stride;
  t.limit = c.limits.data();
  t.n_rows = c.n_rows;
  t.kt = kt.data();
  t.kt_stride = kt_stride;
  t.v = v.data();
  t.v_stride = v_stride;
  t.hd = c.hd;
  t.hdv = c.hdv;
  t.scale = 1.0f / std::sqrt(float(c.hd));
  t.out = out.data();
  t.out_stride = out_stride;
  fn(t, scratch.data());

  for (int64_t i = 0; i < c.n_rows; ++i) {
    const int64_t n = c.limits[static_cast<size_t>(i)];
    std::vector<double> s(static_cast<size_t>(n));
    double mx = -INFINITY, smax = 0, vmax = 0;
    for (int64_t p = 0; p < n; ++p) {
      double acc = 0, mag = 0;
      for (int64_t d = 0; d < c.hd; ++d) {
        const double prod = double(q[i * q_stride + d]) * kt[d * kt_stride + p];
        acc += prod;
        mag += std::abs(prod);
      }
      s[p] = acc * t.scale;
      smax = std::max(smax, mag * t.scale);
      mx = std::max(mx, s[p]);
    }
    double l = 0;
    for (auto& x : s) l += (x = std::exp(x - mx));
    for (int64_t p = 0; p < n; ++p)
      for (int64_t d = 0; d < c.hdv; ++d)
        vmax = std::max(vmax, std::abs(double(v[p * v_stride + d])));
    const double blocks = double((n + kAttnBlock - 1) / kAttnBlock);
    const double bound = 2 * vmax *
                         (2 * (2 * double(c.hd + 2) * kU * smax + 8 * kU + 4 * kU * blocks) +
                          double(n + c.hdv) * kU);
    for (int64_t d = 0; d < c.hdv; ++d) {
      double want = 0;
      for (int64_t p = 0; p < n; ++p) want += s[p] / l * v[p * v_stride + d];
      if (n == 0) want = 0;
      ASSERT_NEAR(out[i * out_stride + d], want, bound)
          << what << ": hd " << c.hd << " row " << i << " limit " << n << " d " << d;
    }
    EXPECT_EQ(out[i * out_stride + c.hdv], 7.0f) << "wrote past the row";
  }
}

std::vector<Case> cases() {
  std::vector<Case> v;
  for (int64_t hd : {8, 12, 64, 128}) {
    v.push_back({hd, hd, 1, 1, {1}, 1.0f});
    v.push_back({hd, hd, 3, 70, {63, 64, 65}, 1.0f});
    v.push_back({hd, hd, 8, 300, {300, 300, 300, 300, 300, 300, 300, 300}, 1.0f});
    v.push_back({hd, hd, 4, 1000, {1, 129, 999, 1000}, 3.0f});  // peaked softmax
    v.push_back({hd, hd, 2, 17, {0, 17}, 1.0f});                // a row that sees nothing
  }
  v.push_back({64, 32, 5, 200, {10, 50, 100, 150, 200}, 1.0f});
  return v;
}

TEST(Attention, ReferenceMatchesDoubleSoftmax) {
  for (const auto& c : cases()) run_case(c, attention_tile_ref, "ref");
}

TEST(Attention, FastKernelMatchesDoubleSoftmax) {
  const KernelSet& ks = kernels_for(detect_isa());
  for (const auto& c : cases()) run_case(c, ks.attention, "fast");
}

TEST(Attention, EveryKernelTableHasAttention) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    if (cpu_supports(isa)) {
      EXPECT_NE(kernels_for(isa).attention, nullptr);
    }
}

}  // namespace
}  // namespace minima
