// One training step of a tiny llama model against PyTorch (tests/train/torch_reference.py, Debian's
// python3-torch, float64): the loss, every parameter's gradient and every parameter after the
// AdamW step (with gradient clipping active and two accumulated micro-batches).
//
// Tolerances. minima computes in float32; the reference is float64, i.e. exact to ~1e-16 at this
// scale. Each float32 gradient is a composition of at most ~40 ops (2 layers × ~15 + output), the
// longest reduction adds K = 36 terms (batch × positions of one weight gradient) and every other
// sum has ≤ 48 terms, so the relative error of a dot product is ≤ γ_48 ≈ 2.9e-6 of the sum of its
// terms' magnitudes; through the chain these add (first order) to ≤ 40 × 2.9e-6 ≈ 1.2e-4 of the
// magnitudes involved. So every gradient element must be within 2e-4 × (largest |gradient| of its
// tensor) — a bound on the absolute error, since cancellation makes single elements' relative
// error unbounded. The loss: a mean of ≤ 36 logsumexp terms, each within ~1e-5 relative.
// After the AdamW step, parameters whose gradient is well above its error bound must match to
// 1e-3·lr (the first step moves each by ≈ lr·sign(g)); where |g| is within the error bound the sign
// itself is uncertain, so those may differ by up to 2·lr.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "support/test_support.hpp"
#include "train/step.hpp"

namespace minima::train {
namespace {

bool torch_available() {
  return std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0;
}

void run_case(bool tied) {
  if (!torch_available()) {
    if (test::in_ci()) FAIL() << "CI=true but /usr/bin/python3 cannot import torch (scripts/setup.sh)";
    GTEST_SKIP() << "python3-torch not installed (scripts/setup.sh installs it)";
  }
  ModelConfig c;
  c.n_vocab = 61, c.n_embd = 32, c.n_layer = 2, c.n_head = 4, c.n_head_kv = 2, c.n_ff = 48;
  c.n_ctx = 9, c.tied_output = tied;
  const int64_t batch = 2, accum = 2;
  const Layout layout = Layout::of(c);
  TrainState st;
  st.params.resize(layout.total);
  st.m.assign(layout.total, 0.0f);
  st.v.assign(layout.total, 0.0f);
  std::mt19937 rng(tied ? 5 : 6);
  std::normal_distribution<float> nd;
  for (const ParamTensor& p : layout.tensors)
    for (size_t i = 0; i < p.numel(); ++i)
      st.params[p.offset + i] = p.decay ? 0.3f * nd(rng) : 1.0f + 0.1f * nd(rng);
  const size_t n = size_t(accum * batch * c.n_ctx);
  std::vector<int32_t> tokens(n), targets(n);
  std::uniform_int_distribution<int32_t> tok(0, int32_t(c.n_vocab - 1));
  for (size_t i = 0; i < n; ++i) {
    tokens[i] = tok(rng);
    targets[i] = i % 7 == 3 ? -1 : tok(rng);
  }
  AdamWConfig opt;
  opt.lr = 1e-2f, opt.weight_decay = 0.1f, opt.grad_clip = 0.5f, opt.warmup = 0, opt.steps = 10;

  nlohmann::json in;
  in["n_embd"] = c.n_embd, in["n_layer"] = c.n_layer, in["n_head"] = c.n_head;
  in["n_head_kv"] = c.n_head_kv, in["rms_eps"] = c.rms_eps, in["rope_base"] = c.rope_base;
  for (const ParamTensor& p : layout.tensors) {
    in["params"][p.name] = {{"rows", p.ne1},
                            {"decay", p.decay},
                            {"data", std::vector<float>(st.params.begin() + long(p.offset),
                                                        st.params.begin() + long(p.offset + p.numel()))}};
  }
  std::vector<std::vector<int32_t>> tk, tg;
  for (int64_t s = 0; s < accum * batch; ++s) {
    tk.emplace_back(tokens.begin() + s * c.n_ctx, tokens.begin() + (s + 1) * c.n_ctx);
    tg.emplace_back(targets.begin() + s * c.n_ctx, targets.begin() + (s + 1) * c.n_ctx);
  }
  in["tokens"] = tk, in["targets"] = tg;
  in["adamw"] = {{"lr", opt.lr},       {"beta1", opt.beta1}, {"beta2", opt.beta2},
                 {"eps", opt.eps},     {"weight_decay", opt.weight_decay},
                 {"grad_clip", opt.grad_clip}};
  const auto dir = test::temp_dir(tied ? "torch-tied" : "torch-untied");
  std::ofstream(dir / "in.json") << in.dump();
  const std::string cmd = "/usr/bin/python3 " + std::string(MINIMA_SOURCE_DIR) +
                          "/tests/train/torch_reference.py " + (dir / "in.json").string() + " " +
                          (dir / "out.json").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const nlohmann::json out = nlohmann::json::parse(std::ifstream(dir / "out.json"));

  ThreadPool pool(2);
  const KernelSet& ks = kernels_for(detect_isa());
  Transformer tr(c, layout, ks, pool, GemmPrecision::F32, batch);
  const std::vector<float> before = st.params;
  std::vector<float> grads;
  const StepStats s = optimizer_step(tr, layout, opt, pool, st, grads, tokens, targets, accum);
  const double ref_loss = out["loss"].get<double>();
  EXPECT_NEAR(s.loss, ref_loss, 1e-5 * ref_loss);
  EXPECT_NEAR(s.grad_norm, out["grad_norm"].get<double>(), 2e-4 * out["grad_norm"].get<double>());
  for (const ParamTensor& p : layout.tensors) {
    const auto rg = out["grads"][p.name].get<std::vector<double>>();
    const auto rp = out["updated"][p.name].get<std::vector<double>>();
    ASSERT_EQ(rg.size(), p.numel()) << p.name;
    double big = 0;
    for (double g : rg) big = std::max(big, std::fabs(g));
    const double tol = 2e-4 * big;
    for (size_t i = 0; i < p.numel(); ++i) {
      ASSERT_NEAR(grads[p.offset + i], rg[i], tol) << p.name << "[" << i << "]";
      const double ptol = std::fabs(rg[i]) > 10 * tol ? 1e-3 * opt.lr + 1e-7 : 2.0 * opt.lr + 1e-7;
      ASSERT_NEAR(st.params[p.offset + i], rp[i], ptol) << p.name << "[" << i << "] after the step";
    }
  }
  EXPECT_NE(before, st.params);
}

TEST(TorchStep, TiedOutput) { run_case(true); }
TEST(TorchStep, UntiedOutput) { run_case(false); }

}  // namespace
}  // namespace minima::train
