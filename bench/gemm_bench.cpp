// Throughput of the prefill GEMM (core/gemm.hpp). Counter GFLOP/s = 2·rows·K·tokens per second.
//   build/release/bin/gemm_bench [--benchmark_filter=Q4_0]      (MINIMA_CPU=scalar|avx2 to compare)
//
// tile/...:        the microkernel alone on one strip of packed panels (kGemmStripRows rows ×
//                  kGemmKBlock) and 96 tokens: everything L1/L2-resident, the kernel's ceiling.
// rows/T/N×K:      gemm_rows over a whole N×K matrix of type T times 512 tokens on one thread
//                  (dequantize + pack + kernel, activations streamed from L3).
// matmul2/T/N×K:   the same through matmul() with a 2-thread pool (what a prefill step runs).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "core/gemm.hpp"
#include "core/matmul.hpp"
#include "core/quant/quant.hpp"
#include "core/threads.hpp"

namespace {

using namespace minima;

constexpr int64_t kTokens = 512;

std::vector<float> gaussian(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd;
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = nd(rng);
  return v;
}

std::vector<uint8_t> weights(DType t, int64_t n_out, int64_t k) {
  const size_t rs = row_size(t, k);
  std::vector<uint8_t> w(rs * size_t(n_out));
  const auto src = gaussian(k, 7);
  for (int64_t r = 0; r < n_out; ++r) {
    // Rotated copies of one Gaussian row: distinct rows without quantizing n_out random rows.
    std::vector<float> row(src.begin() + r % k, src.end());
    row.insert(row.end(), src.begin(), src.begin() + r % k);
    quant::quantize_row_ref(t, row.data(), w.data() + rs * size_t(r), k);
  }
  return w;
}

void set_flops(benchmark::State& st, double flops, const KernelSet& ks) {
  st.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(std::string(isa_name(ks.isa)));
}

void BM_Tile(benchmark::State& st) {
  const KernelSet& ks = kernels_for(detect_isa());
  const int64_t np = st.range(0), kc = st.range(1), n_tok = 96;
  // Panels 64-byte aligned like gemm_rows' scratch: a panel's k-row is then one cache line.
  auto panel_buf = gaussian(np * kc * kGemmPanelRows + 16, 1);
  const float* panels = panel_buf.data();
  while (reinterpret_cast<uintptr_t>(panels) % 64 != 0) ++panels;
  const auto x = gaussian(n_tok * kc, 2);
  std::vector<float> y(size_t(n_tok * np * kGemmPanelRows));
  for (auto _ : st) {
    ks.gemm_tile(panels, np, kc, x.data(), kc, n_tok, y.data(), np * kGemmPanelRows, true);
    benchmark::ClobberMemory();
  }
  set_flops(st, 2.0 * double(np * kGemmPanelRows * kc * n_tok), ks);
}

void BM_Rows(benchmark::State& st, DType t, int64_t n_out, int64_t k) {
  const KernelSet& ks = kernels_for(detect_isa());
  const auto w = weights(t, n_out, k);
  const TensorView view = make_view(t, k, n_out, w.data());
  const auto x = gaussian(kTokens * k, 3);
  std::vector<float> y(size_t(kTokens * n_out));
  std::vector<float> scratch(size_t(gemm_scratch_floats(k)));
  for (auto _ : st) {
    gemm_rows(ks, view, 0, n_out, x.data(), kTokens, y.data(), n_out, scratch.data());
    benchmark::ClobberMemory();
  }
  set_flops(st, 2.0 * double(n_out) * double(k) * double(kTokens), ks);
}

void BM_Matmul2(benchmark::State& st, DType t, int64_t n_out, int64_t k) {
  const KernelSet& ks = kernels_for(detect_isa());
  const auto w = weights(t, n_out, k);
  const TensorView view = make_view(t, k, n_out, w.data());
  const auto x = gaussian(kTokens * k, 3);
  std::vector<float> y(size_t(kTokens * n_out));
  ThreadPool pool(2);
  MatmulScratch scratch(k, kTokens, pool.size());
  for (auto _ : st) {
    matmul(ks, pool, scratch, view, x.data(), kTokens, y.data(), false, 0);
    benchmark::ClobberMemory();
  }
  set_flops(st, 2.0 * double(n_out) * double(k) * double(kTokens), ks);
}

const DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                        DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                        DType::Q4_K, DType::Q5_K, DType::Q6_K};

struct Shape {
  int64_t n_out, k;
};
const Shape kShapes[] = {{2048, 2048}, {5632, 2048}, {2048, 5632}};

const int registered = [] {
  benchmark::RegisterBenchmark("tile", BM_Tile)
      ->ArgNames({"panels", "kc"})
      ->Args({kGemmStripRows / kGemmPanelRows, kGemmKBlock})
      ->Args({1, kGemmKBlock})
      ->Args({1, 64})
      ->Args({16, 128})
      ->Unit(benchmark::kMicrosecond);
  for (const char* what : {"rows", "matmul2"}) {
    for (DType t : kTypes) {
      for (const Shape& s : kShapes) {
        const std::string name = std::string(what) + "/" + std::string(type_info(t).name) + "/" +
                                 std::to_string(s.n_out) + "x" + std::to_string(s.k);
        auto* b = what[0] == 'r'
                      ? benchmark::RegisterBenchmark(name.c_str(), BM_Rows, t, s.n_out, s.k)
                      : benchmark::RegisterBenchmark(name.c_str(), BM_Matmul2, t, s.n_out, s.k);
        // One thread: CPU time (robust when other processes share the machine); the pool: real
        // time.
        b->Unit(benchmark::kMillisecond);
        if (what[0] == 'm') b->UseRealTime();
      }
    }
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
