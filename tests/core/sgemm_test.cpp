// The training GEMM (core/sgemm.hpp): every kernel table's microkernels through the driver against
// sgemm_ref, for both precisions where the CPU has them, all four transpose combinations, odd
// sizes (partial tiles, several k-blocks and column blocks), α ≠ 1 and accumulation.
//
// Tolerance: both compute each element as one chain of K products added to c0 (the reference with
// separate roundings, the microkernels fused; BF16 pairs with one rounding per pair sum), on the
// same rounded inputs (α·a rounded once; BF16: α·a and b rounded to bfloat16). Each is within
// γ_{K+1}·S of the exact sum, S = |c0| + Σ_k |ã_k·b̃_k| (Higham §3.1), so they differ by at most
// 2·γ_{K+1}·S.
//
// Determinism: the result may not depend on the thread count (threads split rows of C; each
// element's chain is fixed), and sgemm_serial gives the pool's bits.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/fp16.hpp"
#include "core/sgemm.hpp"
#include "core/threads.hpp"
#include "quant_test_util.hpp"

namespace minima {
namespace {

struct Problem {
  GemmShape s;
  std::vector<float> a, b, c0;
};

Problem make(bool ta, bool tb, int64_t m, int64_t n, int64_t k, std::mt19937& rng) {
  Problem p;
  // Leading dimensions larger than the rows so strides are exercised.
  p.s = {ta, tb, m, n, k, (ta ? m : k) + 3, (tb ? k : n) + 1, n + 2};
  p.a = test::gaussian((ta ? k : m) * p.s.lda, rng);
  p.b = test::gaussian((tb ? n : k) * p.s.ldb, rng);
  p.c0 = test::gaussian(m * p.s.ldc, rng);
  return p;
}

double rounded(GemmPrecision prec, float v) {
  return prec == GemmPrecision::BF16 ? double(bf16_to_fp32(fp32_to_bf16(v))) : double(v);
}

void expect_close(GemmPrecision prec, const Problem& p, float alpha, bool acc,
                  const std::vector<float>& got, const std::vector<float>& want,
                  const std::string& what) {
  const GemmShape& s = p.s;
  const double u = test::kFloatEps, kk = double(s.k + 1);
  const double gamma = kk * u / (1.0 - kk * u);
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < s.n; ++j) {
      double sum = acc ? std::fabs(double(p.c0[i * s.ldc + j])) : 0.0;
      for (int64_t k = 0; k < s.k; ++k) {
        const float av = alpha * (s.ta ? p.a[k * s.lda + i] : p.a[i * s.lda + k]);
        const float bv = s.tb ? p.b[j * s.ldb + k] : p.b[k * s.ldb + j];
        sum += std::fabs(rounded(prec, av) * rounded(prec, bv));
      }
      const double tol = 2.0 * gamma * sum;
      ASSERT_LE(std::fabs(double(got[i * s.ldc + j]) - double(want[i * s.ldc + j])), tol)
          << what << " at (" << i << ", " << j << ")";
    }
  }
}

std::vector<GemmPrecision> precisions(const KernelSet& k) {
  std::vector<GemmPrecision> v{GemmPrecision::F32};
  if (k.sgemm.bf16 != nullptr) v.push_back(GemmPrecision::BF16);
  return v;
}

const char* name(GemmPrecision p) {
  return p == GemmPrecision::F32 ? "f32" : "bf16";
}

TEST(Sgemm, MatchesReference) {
  std::mt19937 rng(7);
  ThreadPool pool(2);
  GemmWorkspace ws(2);
  const int64_t shapes[][3] = {{1, 1, 1},     {5, 7, 3},      {12, 32, 256}, {13, 33, 17},
                               {37, 70, 300}, {100, 40, 513}, {3, 2100, 5},  {25, 9, 2}};
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& ks = kernels_for(isa);
    for (GemmPrecision prec : precisions(ks)) {
      for (const auto& sh : shapes) {
        for (int t = 0; t < 4; ++t) {
          const Problem p = make(t & 1, t & 2, sh[0], sh[1], sh[2], rng);
          for (bool acc : {false, true}) {
            const float alpha = acc ? 0.37f : 1.0f;
            std::vector<float> got = p.c0, want = p.c0;
            sgemm(ks, pool, ws, prec, p.s, alpha, p.a.data(), p.b.data(), got.data(), acc);
            sgemm_ref(prec, p.s, alpha, p.a.data(), p.b.data(), want.data(), acc);
            const std::string what = std::string(isa_name(isa)) + " " + name(prec) + " " +
                                     std::to_string(sh[0]) + "x" + std::to_string(sh[1]) + "x" +
                                     std::to_string(sh[2]) + " ta=" + std::to_string(t & 1) +
                                     " tb=" + std::to_string((t >> 1) & 1) +
                                     " acc=" + std::to_string(acc);
            expect_close(prec, p, alpha, acc, got, want, what);
            // Padding columns of C (ldc > n) are never written.
            for (int64_t i = 0; i < p.s.m; ++i)
              for (int64_t j = p.s.n; j < p.s.ldc; ++j)
                ASSERT_EQ(got[i * p.s.ldc + j], p.c0[i * p.s.ldc + j]) << what;
          }
        }
      }
    }
  }
}

TEST(Sgemm, SameBitsForAnyThreadCountAndSerial) {
  std::mt19937 rng(8);
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& ks = kernels_for(isa);
    for (GemmPrecision prec : precisions(ks)) {
      const Problem p = make(false, true, 131, 75, 600, rng);
      std::vector<float> first;
      for (int nt : {1, 2, 3}) {
        ThreadPool pool(nt);
        GemmWorkspace ws(nt);
        std::vector<float> c = p.c0;
        sgemm(ks, pool, ws, prec, p.s, 0.5f, p.a.data(), p.b.data(), c.data(), true);
        if (first.empty()) {
          first = c;
        } else {
          ASSERT_EQ(0, std::memcmp(first.data(), c.data(), c.size() * 4))
              << isa_name(isa) << " " << name(prec) << " threads " << nt;
        }
      }
      GemmWorkspace ws(3);
      std::vector<float> c = p.c0;
      sgemm_serial(ks, ws, 2, prec, p.s, 0.5f, p.a.data(), p.b.data(), c.data(), true);
      ASSERT_EQ(0, std::memcmp(first.data(), c.data(), c.size() * 4))
          << isa_name(isa) << " " << name(prec) << " serial";
    }
  }
}

// The vectorized BF16 packing entries write the panels the driver's scalar packing writes, bit
// for bit (inputs are normal floats: the instructions flush denormals, which the scalar rounding
// does not), so both give the same products.
TEST(Sgemm, FastBf16PackingEqualsScalarPacking) {
  std::mt19937 rng(9);
  const KernelSet& fast = kernels_for(detect_isa());
  if (fast.sgemm.pack_bf16_t == nullptr) GTEST_SKIP() << "no BF16 packing kernels on this CPU";
  KernelSet scalar_pack = fast;
  scalar_pack.sgemm.pack_bf16_t = scalar_pack.sgemm.pack_bf16_n = nullptr;
  ThreadPool pool(2);
  GemmWorkspace ws(2);
  const int64_t shapes[][3] = {{1, 1, 1}, {13, 33, 17}, {37, 70, 300}, {29, 45, 33}, {16, 32, 64}};
  for (const auto& sh : shapes) {
    for (int t = 0; t < 4; ++t) {
      const Problem p = make(t & 1, t & 2, sh[0], sh[1], sh[2], rng);
      std::vector<float> a = p.c0, b = p.c0;
      sgemm(fast, pool, ws, GemmPrecision::BF16, p.s, 0.7f, p.a.data(), p.b.data(), a.data(), true);
      sgemm(scalar_pack, pool, ws, GemmPrecision::BF16, p.s, 0.7f, p.a.data(), p.b.data(), b.data(),
            true);
      ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4))
          << sh[0] << "x" << sh[1] << "x" << sh[2] << " t=" << t;
    }
  }
}

TEST(Sgemm, EmptyDepthClearsOrKeeps) {
  const KernelSet& ks = kernels_for(Isa::Scalar);
  ThreadPool pool(1);
  GemmWorkspace ws(1);
  const GemmShape s{false, false, 2, 3, 0, 1, 3, 3};
  std::vector<float> c(6, 5.0f);
  sgemm(ks, pool, ws, GemmPrecision::F32, s, 1.0f, nullptr, nullptr, c.data(), true);
  EXPECT_EQ(c, std::vector<float>(6, 5.0f));
  sgemm(ks, pool, ws, GemmPrecision::F32, s, 1.0f, nullptr, nullptr, c.data(), false);
  EXPECT_EQ(c, std::vector<float>(6, 0.0f));
}

}  // namespace
}  // namespace minima
