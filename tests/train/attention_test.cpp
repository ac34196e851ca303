// Training attention (train/attention.hpp) against a double-precision reference: the forward pass
// against a naive causal GQA attention, and the backward pass against central finite differences
// of that reference (h = 1e-5, accurate to ~1e-9). The float kernels carry roundings of order
// u·(terms summed) ≈ 1e-7·t on values of order 1; the tests allow 2e-4 relative to max(1, |g|)
// (BF16 products: 3e-2, the unit roundoff of bfloat16 being 2^-8).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "train/attention.hpp"

namespace minima::train {
namespace {

// out = attention(q, k, v) in double, naive.
std::vector<double> reference(const AttentionDims& d, const std::vector<double>& q,
                              const std::vector<double>& k, const std::vector<double>& v) {
  const int64_t ldq = d.h * d.hd, ldk = d.hkv * d.hd, group = d.h / d.hkv;
  std::vector<double> out(size_t(d.b * d.t * ldq));
  const double scale = 1.0 / std::sqrt(double(d.hd));
  for (int64_t b = 0; b < d.b; ++b)
    for (int64_t h = 0; h < d.h; ++h)
      for (int64_t i = 0; i < d.t; ++i) {
        const int64_t g = h / group;
        std::vector<double> s(size_t(i + 1));
        double mx = -1e300;
        for (int64_t j = 0; j <= i; ++j) {
          double dot = 0;
          for (int64_t e = 0; e < d.hd; ++e)
            dot += q[size_t((b * d.t + i) * ldq + h * d.hd + e)] *
                   k[size_t((b * d.t + j) * ldk + g * d.hd + e)];
          s[size_t(j)] = dot * scale;
          mx = std::max(mx, s[size_t(j)]);
        }
        double sum = 0;
        for (auto& x : s) sum += (x = std::exp(x - mx));
        for (int64_t e = 0; e < d.hd; ++e) {
          double o = 0;
          for (int64_t j = 0; j <= i; ++j)
            o += s[size_t(j)] / sum * v[size_t((b * d.t + j) * ldk + g * d.hd + e)];
          out[size_t((b * d.t + i) * ldq + h * d.hd + e)] = o;
        }
      }
  return out;
}

std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

void check(GemmPrecision prec, int threads) {
  const AttentionDims d{2, 7, 4, 2, 6};
  std::mt19937 rng(11);
  std::normal_distribution<double> nd;
  const auto rnd = [&](int64_t n) {
    std::vector<double> x(static_cast<size_t>(n));
    for (auto& e : x) e = float(nd(rng));  // float-representable, so both sides see the same input
    return x;
  };
  const int64_t nq = d.b * d.t * d.h * d.hd, nk = d.b * d.t * d.hkv * d.hd;
  auto q = rnd(nq), k = rnd(nk), v = rnd(nk);
  const auto w = rnd(nq);  // loss = Σ w·out
  const KernelSet& ks = kernels_for(detect_isa());
  if (prec == GemmPrecision::BF16 && ks.sgemm.bf16 == nullptr) GTEST_SKIP() << "no BF16 on this CPU";
  ThreadPool pool(threads);
  GemmWorkspace ws(threads);
  const auto qf = to_float(q), kf = to_float(k), vf = to_float(v), wf = to_float(w);
  std::vector<float> p(static_cast<size_t>(d.b * d.h * d.t * d.t)), out(static_cast<size_t>(nq));
  attention_forward(ks, pool, ws, prec, d, qf.data(), kf.data(), vf.data(), p.data(), out.data());
  const double tol = prec == GemmPrecision::F32 ? 2e-4 : 3e-2;
  const auto want = reference(d, q, k, v);
  for (int64_t i = 0; i < nq; ++i)
    ASSERT_NEAR(out[size_t(i)], want[size_t(i)], tol * std::max(1.0, std::fabs(want[size_t(i)])))
        << "forward " << i;
  std::vector<float> dq(static_cast<size_t>(nq)), dk(static_cast<size_t>(nk)),
      dv(static_cast<size_t>(nk)), scratch(static_cast<size_t>(threads * d.t * d.t));
  attention_backward(ks, pool, ws, prec, d, qf.data(), kf.data(), vf.data(), p.data(), wf.data(),
                     dq.data(), dk.data(), dv.data(), scratch.data());
  const auto loss = [&] {
    const auto o = reference(d, q, k, v);
    double s = 0;
    for (size_t i = 0; i < o.size(); ++i) s += o[i] * w[i];
    return s;
  };
  const auto fd_check = [&](std::vector<double>& x, const std::vector<float>& g, const char* what) {
    for (size_t i = 0; i < x.size(); ++i) {
      const double x0 = x[i], h = 1e-5;
      x[i] = x0 + h;
      const double fp = loss();
      x[i] = x0 - h;
      const double fm = loss();
      x[i] = x0;
      const double num = (fp - fm) / (2 * h);
      ASSERT_NEAR(g[i], num, tol * std::max(1.0, std::fabs(num))) << what << " " << i;
    }
  };
  fd_check(q, dq, "dq");
  fd_check(k, dk, "dk");
  fd_check(v, dv, "dv");
}

TEST(TrainAttention, MatchesReferenceAndFiniteDifferences) { check(GemmPrecision::F32, 2); }
TEST(TrainAttention, Bf16WithinItsRounding) { check(GemmPrecision::BF16, 2); }
TEST(TrainAttention, OddThreadCount) { check(GemmPrecision::F32, 3); }

}  // namespace
}  // namespace minima::train
