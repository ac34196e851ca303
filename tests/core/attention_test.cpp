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

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
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
  int64_t block_size;
};

// Keys and values of n_ctx positions laid out in a paged pool whose blocks are deliberately out of
// order (the table is a shuffled permutation with unused blocks in between).
void run_case(const Case& c, AttentionFn fn, const char* what) {
  std::mt19937 rng(static_cast<unsigned>(c.hd * 131 + c.n_ctx * 7 + c.n_rows + c.block_size));
  std::normal_distribution<float> nd;
  const int64_t bs = c.block_size, n_used = (c.n_ctx + bs - 1) / bs, n_pool = 2 * n_used + 1;
  const int64_t q_stride = c.hd + 3, v_row = c.hdv + 5, out_stride = c.hdv + 1;
  std::vector<int32_t> perm(static_cast<size_t>(n_pool));
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int32_t>(i);
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<int32_t> table(perm.begin(), perm.begin() + n_used);
  const int64_t k_block = c.hd * bs, v_block = bs * v_row;
  std::vector<float> q(static_cast<size_t>(c.n_rows * q_stride)),
      kpool(static_cast<size_t>(n_pool * k_block)), vpool(static_cast<size_t>(n_pool * v_block)),
      out(static_cast<size_t>(c.n_rows * out_stride), 7.0f);
  for (auto& x : q) x = nd(rng) * c.q_scale;
  for (auto& x : kpool) x = nd(rng);
  for (auto& x : vpool) x = nd(rng);
  auto K = [&](int64_t p, int64_t d) {
    return kpool[static_cast<size_t>(table[p / bs] * k_block + d * bs + p % bs)];
  };
  auto V = [&](int64_t p, int64_t d) {
    return vpool[static_cast<size_t>(table[p / bs] * v_block + (p % bs) * v_row + d)];
  };
  std::vector<float> scratch(kAttnScratchFloats);
  AttentionTile t;
  t.q = q.data();
  t.q_stride = q_stride;
  t.limit = c.limits.data();
  t.n_rows = c.n_rows;
  t.table = table.data();
  t.block_size = bs;
  t.k_base = kpool.data();
  t.k_block_stride = k_block;
  t.v_base = vpool.data();
  t.v_block_stride = v_block;
  t.v_row_stride = v_row;
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
        const double prod = double(q[i * q_stride + d]) * K(p, d);
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
      for (int64_t d = 0; d < c.hdv; ++d) vmax = std::max(vmax, std::abs(double(V(p, d))));
    const double blocks = double((n + kAttnBlock - 1) / kAttnBlock);
    const double bound = 2 * vmax *
                         (2 * (2 * double(c.hd + 2) * kU * smax + 8 * kU + 4 * kU * blocks) +
                          double(n + c.hdv) * kU);
    for (int64_t d = 0; d < c.hdv; ++d) {
      double want = 0;
      for (int64_t p = 0; p < n; ++p) want += s[p] / l * V(p, d);
      ASSERT_NEAR(out[i * out_stride + d], want, bound)
          << what << ": hd " << c.hd << " block " << bs << " row " << i << " limit " << n << " d "
          << d;
    }
    EXPECT_EQ(out[i * out_stride + c.hdv], 7.0f) << "wrote past the row";
  }
}

std::vector<Case> cases() {
  std::vector<Case> v;
  for (int64_t bs : {8, 16, 32, 64}) {
    for (int64_t hd : {8, 12, 64, 128}) {
      v.push_back({hd, hd, 1, 1, {1}, 1.0f, bs});
      v.push_back({hd, hd, 3, 70, {63, 64, 65}, 1.0f, bs});
      v.push_back({hd, hd, 8, 300, {300, 300, 300, 300, 300, 300, 300, 300}, 1.0f, bs});
      v.push_back({hd, hd, 4, 1000, {1, 129, 999, 1000}, 3.0f, bs});  // peaked softmax
      v.push_back({hd, hd, 2, 17, {0, 17}, 1.0f, bs});                // a row that sees nothing
    }
    v.push_back({64, 32, 5, 200, {10, 50, 100, 150, 200}, 1.0f, bs});
  }
  return v;
}

TEST(Attention, ReferenceMatchesDoubleSoftmax) {
  for (const auto& c : cases()) run_case(c, attention_tile_ref, "ref");
}

TEST(Attention, FastKernelsMatchDoubleSoftmax) {
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    const std::string what(isa_name(isa));
    for (const auto& c : cases()) run_case(c, kernels_for(isa).attention, what.c_str());
  }
}

TEST(Attention, EveryKernelTableHasAttention) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    if (cpu_supports(isa)) {
      EXPECT_NE(kernels_for(isa).attention, nullptr);
    }
}

}  // namespace
}  // namespace minima
