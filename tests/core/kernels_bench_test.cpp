// Throughput of the dot kernels (GB/s of weight bytes streamed): a [4096, 4096] weight matrix
// times one activation row, like a decode-step matmul on one thread. Disabled by default (no
// timing assertions); run with
//   core_tests --gtest_filter='KernelsBench.*' --gtest_also_run_disabled_tests
// and MINIMA_CPU=scalar|avx2 to compare paths.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "core/kernels/kernels.hpp"
#include "quant_test_util.hpp"

namespace minima {
namespace {

TEST(KernelsBench, DISABLED_DotThroughput) {
  const KernelSet& k = kernels_for(detect_isa());
  const int64_t n = 4096, rows = 4096;
  std::mt19937 rng(1);
  const auto x = test::gaussian(n, rng);
  std::printf("isa %s, %lld rows x %lld\n", isa_name(k.isa).data(), (long long)rows, (long long)n);
  for (DType wt : test::weight_types()) {
    const DType at = type_info(wt).vec_dot_type;
    const size_t rs = row_size(wt, n);
    std::vector<uint8_t> w(rs * size_t(rows));
    const auto row = test::random_row(wt, n, rng, false);
    for (int64_t r = 0; r < rows; ++r) std::copy(row.begin(), row.end(), w.begin() + long(rs) * r);
    std::vector<uint8_t> a(row_size(at, n));
    k.quantize_for(at)(x.data(), a.data(), n);
    const VecDotFn dot = k.dot_for(wt);
    // distinct = 4096: every row is its own memory (streams from L3 / DRAM); distinct = 8: the
    // same 8 rows cycled, which stay in L2 and show the kernel's compute speed.
    for (int64_t distinct : {rows, int64_t(8)}) {
      double best = 1e30, sink = 0;
      for (int rep = 0; rep < 7; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int64_t r = 0; r < rows; ++r)
          sink += dot(w.data() + rs * size_t(r % distinct), a.data(), n);
        const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
        best = std::min(best, dt.count());
      }
      std::printf("%-5s %-9s %7.3f ms  %6.2f GB/s  %6.2f Gelem/s  (sink %g)\n",
                  type_name(uint32_t(wt)).data(), distinct == rows ? "4096 rows" : "L2-hot",
                  best * 1e3, double(w.size()) / best / 1e9, double(n * rows) / best / 1e9, sink);
    }
  }
}

}  // namespace
}  // namespace minima
