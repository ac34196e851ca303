// Throughput of the dot kernels: a [16384, 4096] weight matrix times one activation row on one
// thread, like a decode-step matmul. Counters: B/s of weight bytes streamed and elements/s.
//   build/release/bin/kernels_bench [--benchmark_filter=Q4_K]     (MINIMA_CPU=scalar|avx2 to
//   compare)
// "rows:16384" streams distinct rows (memory-bound); "rows:8" cycles 8 rows that stay in L2 and
// shows the kernel's compute speed.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/kernels/kernels.hpp"
#include "core/quant/quant.hpp"

namespace {

using namespace minima;

// 16384 rows: 37.7 MB of Q4_0 (more for every other type), beyond the 32 MB L3.
constexpr int64_t kN = 4096, kRows = 16384;

// kRows rows of wt: 64 quantized Gaussian rows repeated (distinct addresses are what matters for
// streaming; quantizing every row with the reference would take long for the K-quants).
std::vector<uint8_t> random_matrix(DType wt, std::mt19937& rng) {
  std::normal_distribution<float> nd;
  std::vector<float> wrow(kN);
  const size_t rs = row_size(wt, kN);
  std::vector<uint8_t> w(rs * size_t(kRows));
  for (int64_t r = 0; r < 64; ++r) {
    for (auto& v : wrow) v = nd(rng);
    quant::quantize_row_ref(wt, wrow.data(), w.data() + rs * size_t(r), kN);
  }
  for (int64_t r = 64; r < kRows; ++r)
    std::copy_n(w.data() + rs * size_t(r % 64), rs, w.data() + rs * size_t(r));
  return w;
}

// The weight matrix of wt and one activation row quantized to its vec_dot_type.
struct DotProblem {
  size_t rs;               // bytes per weight row
  std::vector<uint8_t> w;  // [kRows] rows
  std::vector<uint8_t> a;  // one activation row
};

DotProblem dot_problem(const KernelSet& k, DType wt) {
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  std::vector<float> x(kN);
  for (auto& v : x) v = nd(rng);
  DotProblem p{row_size(wt, kN), random_matrix(wt, rng), {}};
  const DType at = type_info(wt).vec_dot_type;
  p.a.resize(row_size(at, kN));
  k.quantize_for(at)(x.data(), p.a.data(), kN);
  return p;
}

void set_counters(benchmark::State& st, const KernelSet& k, size_t rs) {
  st.counters["B/s"] =
      benchmark::Counter(double(rs) * double(kRows), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["elem/s"] =
      benchmark::Counter(double(kN) * double(kRows), benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(std::string(isa_name(k.isa)));
}

void BM_Dot(benchmark::State& st, DType wt) {
  const KernelSet& k = kernels_for(detect_isa());
  const int64_t distinct = st.range(0);
  const auto [rs, w, a] = dot_problem(k, wt);
  const VecDotFn dot = k.dot_for(wt);
  for (auto _ : st) {
    float sink = 0;
    for (int64_t r = 0; r < kRows; ++r)
      sink += dot(w.data() + rs * size_t(r % distinct), a.data(), kN);
    benchmark::DoNotOptimize(sink);
  }
  set_counters(st, k, rs);
}

// The multi-row entry over the same matrix: one call for all rows (streaming, like a decode
// matmul on one thread), or calls over the same ~256 KB of rows (L2-hot: the kernel's compute
// speed).
void BM_DotRows(benchmark::State& st, DType wt) {
  const KernelSet& k = kernels_for(detect_isa());
  const int64_t distinct = st.range(0);
  const auto [rs, w, a] = dot_problem(k, wt);
  const DotRowsFn dot = k.dot_rows_for(wt);
  std::vector<float> out(kRows);
  for (auto _ : st) {
    for (int64_t r = 0; r < kRows; r += distinct)
      dot(w.data(), rs, std::min(distinct, kRows - r), a.data(), kN, out.data() + r);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(st, k, rs);
}

// RMSNorm of one activation row (n = 2048: TinyLlama's width; 5632 its FFN width), the table's
// kernel against the in-order reference.
void BM_RmsNorm(benchmark::State& st, bool reference) {
  const KernelSet& k = kernels_for(detect_isa());
  const auto n = static_cast<int64_t>(st.range(0));
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  std::vector<float> x(static_cast<size_t>(n)), w(x.size()), out(x.size());
  for (auto& v : x) v = nd(rng);
  for (auto& v : w) v = nd(rng);
  const RmsNormFn f = reference ? rms_norm_ref : k.rms_norm;
  for (auto _ : st) {
    f(x.data(), w.data(), out.data(), n, 1e-5f);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  st.SetLabel(reference ? "reference" : std::string(isa_name(k.isa)));
}
BENCHMARK_CAPTURE(BM_RmsNorm, reference, true)->Arg(2048)->Arg(5632);
BENCHMARK_CAPTURE(BM_RmsNorm, table, false)->Arg(2048)->Arg(5632);

const DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                        DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                        DType::Q4_K, DType::Q5_K, DType::Q6_K};

const int registered = [] {
  for (DType t : kTypes) {
    benchmark::RegisterBenchmark(("dot/" + std::string(type_info(t).name)).c_str(), BM_Dot, t)
        ->ArgName("rows")
        ->Arg(kRows)
        ->Arg(8)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("dot_rows/" + std::string(type_info(t).name)).c_str(), BM_DotRows,
                                 t)
        ->ArgName("rows")
        ->Arg(kRows)
        ->Arg(std::max<int64_t>(8, (int64_t{256} << 10) / int64_t(row_size(t, kN)) / 8 * 8))
        ->Unit(benchmark::kMillisecond);
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
