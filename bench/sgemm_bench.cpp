// Throughput of the training GEMM (core/sgemm.hpp) on the three products of a linear layer, at
// the shapes a small model's training step runs (tokens × in → out), 2 threads, F32 and BF16.
// Counter GFLOP/s = 2·M·N·K per second.
//   build/release/bin/sgemm_bench [--benchmark_filter=bf16]   (MINIMA_CPU=avx2|scalar to compare)
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "core/sgemm.hpp"
#include "core/threads.hpp"

namespace {

using namespace minima;

std::vector<float> gaussian(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = nd(rng);
  return v;
}

// which: 0 forward Y = X·Wᵀ, 1 input grad dX = dY·W, 2 weight grad dW += dYᵀ·X.
void BM_Sgemm(benchmark::State& st, GemmPrecision prec, int which) {
  const KernelSet& ks = kernels_for(detect_isa());
  if (prec == GemmPrecision::BF16 && ks.sgemm.bf16 == nullptr) {
    st.SkipWithError("no BF16 dot instruction on this CPU");
    return;
  }
  const int64_t tok = st.range(0), in = st.range(1), out = st.range(2);
  ThreadPool pool(2);
  GemmWorkspace ws(2);
  const auto x = gaussian(tok * in, 1), w = gaussian(out * in, 2), dy = gaussian(tok * out, 3);
  std::vector<float> y(size_t(tok * out)), dx(size_t(tok * in)), dw(size_t(out * in));
  GemmShape s;
  const float *a = nullptr, *b = nullptr;
  float* c = nullptr;
  if (which == 0) {
    s = {false, true, tok, out, in, in, in, out};
    a = x.data(), b = w.data(), c = y.data();
  } else if (which == 1) {
    s = {false, false, tok, in, out, out, in, in};
    a = dy.data(), b = w.data(), c = dx.data();
  } else {
    s = {true, false, out, in, tok, out, in, in};
    a = dy.data(), b = x.data(), c = dw.data();
  }
  for (auto _ : st) {
    sgemm(ks, pool, ws, prec, s, 1.0f, a, b, c, which == 2);
    benchmark::ClobberMemory();
  }
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(s.m * s.n * s.k),
                                              benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

const int registered = [] {
  const char* names[] = {"fwd", "dx", "dw"};
  for (auto prec : {GemmPrecision::F32, GemmPrecision::BF16}) {
    for (int which = 0; which < 3; ++which) {
      const std::string n = std::string(prec == GemmPrecision::F32 ? "f32/" : "bf16/") +
                            names[which];
      benchmark::RegisterBenchmark(n.c_str(), BM_Sgemm, prec, which)
          ->ArgNames({"tok", "in", "out"})
          ->Args({2048, 256, 256})
          ->Args({2048, 256, 768})
          ->Args({2048, 768, 256})
          ->Args({2048, 256, 8192})
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
