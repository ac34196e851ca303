// Gradient checks of the training ops (train/ops.hpp) against central finite differences, run in
// double: with step h = 1e-5 on inputs of order 1 the difference quotient's truncation error is
// O(h²·f''') ~ 1e-10 and its rounding error ~ u_double·|f|/h ~ 1e-11, so analytic and numeric
// gradients must agree to ~1e-8 absolute; the tests allow 1e-6 (relative to max(1, |g|)).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "train/ops.hpp"

namespace minima::train {
namespace {

std::vector<double> randn(size_t n, std::mt19937& rng, double sigma = 1.0) {
  std::normal_distribution<double> nd(0.0, sigma);
  std::vector<double> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

// d/dx_i of f at x, central differences.
std::vector<double> numeric_grad(const std::function<double(const std::vector<double>&)>& f,
                                 std::vector<double> x) {
  const double h = 1e-5;
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double fp = f(x);
    x[i] = x0 - h;
    const double fm = f(x);
    x[i] = x0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

void expect_grad(const std::vector<double>& analytic, const std::vector<double>& numeric,
                 const char* what) {
  ASSERT_EQ(analytic.size(), numeric.size());
  for (size_t i = 0; i < analytic.size(); ++i)
    ASSERT_NEAR(analytic[i], numeric[i], 1e-6 * std::max(1.0, std::fabs(numeric[i])))
        << what << " element " << i;
}

// A scalar loss L = Σ w_i·y_i with fixed random weights w turns any op y = f(x) into a scalar
// whose gradient with respect to y is w.
double weighted(const std::vector<double>& y, const std::vector<double>& w) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += y[i] * w[i];
  return s;
}

TEST(TrainOps, RmsNormBackward) {
  std::mt19937 rng(1);
  const int64_t d = 13;
  const auto x = randn(d, rng), g = randn(d, rng), w = randn(d, rng);
  const double eps = 1e-5;
  const auto loss_x = [&](const std::vector<double>& xx) {
    std::vector<double> y(d);
    rmsnorm_row(xx.data(), g.data(), y.data(), d, eps);
    return weighted(y, w);
  };
  const auto loss_g = [&](const std::vector<double>& gg) {
    std::vector<double> y(d);
    rmsnorm_row(x.data(), gg.data(), y.data(), d, eps);
    return weighted(y, w);
  };
  std::vector<double> y(d), dx(d, 0.0), dg(d, 0.0);
  const double r = rmsnorm_row(x.data(), g.data(), y.data(), d, eps);
  rmsnorm_row_backward(w.data(), x.data(), g.data(), r, dx.data(), dg.data(), d);
  expect_grad(dx, numeric_grad(loss_x, x), "dx");
  expect_grad(dg, numeric_grad(loss_g, g), "dg");
}

TEST(TrainOps, RopeBackwardIsTheInverseRotation) {
  std::mt19937 rng(2);
  const int64_t hd = 8;
  std::vector<float> cs(hd / 2), sn(hd / 2);
  for (int64_t i = 0; i < hd / 2; ++i) {
    const double th = 3.0 * std::pow(10000.0, -2.0 * double(i) / double(hd));
    cs[size_t(i)] = float(std::cos(th));
    sn[size_t(i)] = float(std::sin(th));
  }
  const auto x = randn(hd, rng), w = randn(hd, rng);
  const auto loss = [&](const std::vector<double>& xx) {
    std::vector<double> y = xx;
    rope_row(y.data(), hd, cs.data(), sn.data(), 1);
    return weighted(y, w);
  };
  std::vector<double> dx = w;
  rope_row(dx.data(), hd, cs.data(), sn.data(), -1);
  expect_grad(dx, numeric_grad(loss, x), "rope");
}

TEST(TrainOps, SwigluBackward) {
  std::mt19937 rng(3);
  const int64_t f = 11;
  const auto gate = randn(f, rng, 2.0), up = randn(f, rng), w = randn(f, rng);
  const auto by_gate = [&](const std::vector<double>& gg) {
    std::vector<double> a(f);
    swiglu_row(gg.data(), up.data(), a.data(), f);
    return weighted(a, w);
  };
  const auto by_up = [&](const std::vector<double>& uu) {
    std::vector<double> a(f);
    swiglu_row(gate.data(), uu.data(), a.data(), f);
    return weighted(a, w);
  };
  std::vector<double> dgate(f), dup(f);
  swiglu_row_backward(w.data(), gate.data(), up.data(), dgate.data(), dup.data(), f);
  expect_grad(dgate, numeric_grad(by_gate, gate), "dgate");
  expect_grad(dup, numeric_grad(by_up, up), "dup");
}

TEST(TrainOps, CrossEntropyBackward) {
  std::mt19937 rng(4);
  const int64_t v = 17;
  const auto z = randn(v, rng, 3.0);
  const int32_t target = 5;
  const auto loss = [&](const std::vector<double>& zz) {
    std::vector<double> c = zz;
    return cross_entropy_row(c.data(), v, target, 1.0);
  };
  std::vector<double> dz = z;
  const double l = cross_entropy_row(dz.data(), v, target, 1.0);
  EXPECT_NEAR(l, loss(z), 1e-12);
  expect_grad(dz, numeric_grad(loss, z), "dlogits");
  // The scale multiplies the gradient; an ignored target (-1) gives no loss and no gradient.
  std::vector<double> dz2 = z;
  cross_entropy_row(dz2.data(), v, target, 0.25);
  for (int64_t i = 0; i < v; ++i) EXPECT_NEAR(dz2[size_t(i)], 0.25 * dz[size_t(i)], 1e-15);
  std::vector<double> dz3 = z;
  EXPECT_EQ(cross_entropy_row(dz3.data(), v, -1, 1.0), 0.0);
  for (double g : dz3) EXPECT_EQ(g, 0.0);
}

TEST(TrainOps, CausalSoftmaxBackward) {
  std::mt19937 rng(5);
  const int64_t t = 9, i = 5;
  const auto s = randn(t, rng, 2.0), w = randn(t, rng);
  const auto loss = [&](const std::vector<double>& ss) {
    std::vector<double> p = ss;
    causal_softmax_row(p.data(), i, t);
    return weighted(p, w);
  };
  std::vector<double> p = s;
  causal_softmax_row(p.data(), i, t);
  double total = 0;
  for (int64_t j = 0; j < t; ++j) total += p[size_t(j)];
  EXPECT_NEAR(total, 1.0, 1e-12);
  for (int64_t j = i + 1; j < t; ++j) EXPECT_EQ(p[size_t(j)], 0.0);
  std::vector<double> ds = w;
  causal_softmax_row_backward(p.data(), ds.data(), i, t);
  expect_grad(ds, numeric_grad(loss, s), "dscores");
}

}  // namespace
}  // namespace minima::train
