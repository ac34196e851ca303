// Knowledge-distillation losses (train/kd.hpp) against values computed by hand for a 3-token
// vocabulary (student logits z = [1, 0, −1], so q = softmax(z) = [0.665241, 0.244728, 0.090031];
// teacher p = [0.5, 0.3, 0.2]):
//   KL(p‖q) = Σ p·ln(p/q) = 0.5·ln(0.5/0.665241) + 0.3·ln(0.3/0.244728) + 0.2·ln(0.2/0.090031)
//           = 0.0779529504;            ∂/∂z = q − p = [0.165241, −0.055272, −0.109969]
//   KL(q‖p) = Σ q·ln(q/p) = 0.0682593524
//   at τ = 2: 4·KL(p‖softmax(z/2)) = 0.0024666263
//   CE of token 0 = −ln q₀ = 0.4076059644; α = 0.25 with fkl: 0.75·0.0779530 + 0.25·0.4076060
//   = 0.1603662039
// and every gradient against central finite differences of the loss, with a truncated teacher
// (top-k < vocabulary, the tail spread evenly).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "train/kd.hpp"

namespace minima::train {
namespace {

double run(std::vector<float> z, const std::vector<float>& p, KdLoss loss, float temp, float alpha,
           int32_t target, std::vector<float>* grad = nullptr) {
  const std::vector<int32_t> ids = {0, 1, 2};
  std::vector<float> lp;
  for (float x : p) lp.push_back(std::log(x));
  KdConfig c;
  c.loss = loss;
  c.temp = temp;
  c.alpha = alpha;
  const double l = kd_row(z.data(), 3, ids.data(), lp.data(), 3, -INFINITY, target, c, 1.0f);
  if (grad) *grad = z;
  return l;
}

TEST(KdLoss, HandComputedValues) {
  const std::vector<float> z = {1, 0, -1}, p = {0.5f, 0.3f, 0.2f};
  std::vector<float> g;
  EXPECT_NEAR(run(z, p, KdLoss::Fkl, 1, 0, 0, &g), 0.0779529504, 1e-6);
  EXPECT_NEAR(g[0], 0.165241, 1e-5);
  EXPECT_NEAR(g[1], -0.055272, 1e-5);
  EXPECT_NEAR(g[2], -0.109969, 1e-5);
  EXPECT_NEAR(run(z, p, KdLoss::Rkl, 1, 0, 0), 0.0682593524, 1e-6);
  EXPECT_NEAR(run(z, p, KdLoss::Mixed, 1, 0, 0), 0.5 * (0.0779529504 + 0.0682593524), 1e-6);
  EXPECT_NEAR(run(z, p, KdLoss::Fkl, 2, 0, 0), 0.0024666263, 1e-7);
  EXPECT_NEAR(run(z, p, KdLoss::Fkl, 1, 0.25f, 0), 0.1603662039, 1e-6);
  // Unscored positions: no loss, no gradient.
  EXPECT_EQ(run(z, p, KdLoss::Fkl, 1, 0, -1, &g), 0.0);
  for (float x : g) EXPECT_EQ(x, 0.0f);
  // Student = teacher: both KLs vanish.
  const std::vector<float> zp = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  EXPECT_NEAR(run(zp, p, KdLoss::Fkl, 1, 0, 0), 0.0, 1e-7);
  EXPECT_NEAR(run(zp, p, KdLoss::Rkl, 1, 0, 0), 0.0, 1e-7);
}

TEST(KdLoss, GradientsMatchFiniteDifferencesWithATruncatedTeacher) {
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0f, 2.0f);
  const int64_t v = 40;
  std::vector<float> teacher(v), z(v);
  for (auto& x : teacher) x = n(rng);
  for (auto& x : z) x = n(rng);
  for (KdLoss loss : {KdLoss::Fkl, KdLoss::Rkl, KdLoss::Mixed}) {
    for (float temp : {1.0f, 2.5f}) {
      KdConfig c;
      c.loss = loss;
      c.temp = temp;
      c.alpha = 0.3f;
      c.top_k = 8;
      std::vector<int32_t> ids(8);
      std::vector<float> lp(8);
      float tail;
      teacher_top_k(teacher.data(), v, temp, 8, ids.data(), lp.data(), &tail);
      for (int i = 1; i < 8; ++i) EXPECT_GE(lp[size_t(i - 1)], lp[size_t(i)]);  // most likely first
      std::vector<float> g = z;
      kd_row(g.data(), v, ids.data(), lp.data(), 8, tail, 5, c, 1.0f);
      for (int64_t i = 0; i < v; ++i) {
        const float h = 1e-2f;
        std::vector<float> a = z, b = z;
        a[size_t(i)] += h;
        b[size_t(i)] -= h;
        const double la = kd_row(a.data(), v, ids.data(), lp.data(), 8, tail, 5, c, 1.0f);
        const double lb = kd_row(b.data(), v, ids.data(), lp.data(), 8, tail, 5, c, 1.0f);
        // Central differences in float logits: O(h²) truncation plus rounding of ~1e-7/h.
        EXPECT_NEAR(g[size_t(i)], (la - lb) / (2 * h), 2e-3)
            << kd_loss_name(loss) << " τ=" << temp << " i=" << i;
      }
    }
  }
}

TEST(KdLoss, TopKKeepsTheTeachersMassAndNamesAreParsed) {
  const std::vector<float> z = {3, 1, 2, 0};
  std::vector<int32_t> ids(2);
  std::vector<float> lp(2);
  float tail;
  teacher_top_k(z.data(), 4, 1.0f, 2, ids.data(), lp.data(), &tail);
  EXPECT_EQ(ids[0], 0);
  EXPECT_EQ(ids[1], 2);
  const double s = std::exp(3.0) + std::exp(1.0) + std::exp(2.0) + 1.0;
  EXPECT_NEAR(lp[0], 3.0 - std::log(s), 1e-6);
  EXPECT_NEAR(std::exp(double(tail)) * 2, (std::exp(1.0) + 1.0) / s, 1e-6);  // the rest, evenly
  EXPECT_EQ(parse_kd_loss("rkl"), KdLoss::Rkl);
  EXPECT_THROW(parse_kd_loss("kl"), Error);
}

}  // namespace
}  // namespace minima::train
