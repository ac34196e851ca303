// Machine peak probes for `minima bench --peak` and the roofline shares `minima bench` reports:
// DRAM read bandwidth (a buffer far larger than the caches, read by every thread), and the
// throughput of the integer and float SIMD dot instructions the kernels use. Each probe runs a
// fixed amount of work on all threads of the pool and reports the best of a few repetitions.
#pragma once

#include <string>

#include "core/kernels/kernels.hpp"
#include "core/threads.hpp"

namespace minima {

struct MachinePeaks {
  double read_gbps = 0;    // GB/s (1e9 bytes) of DRAM reads
  double int8_gops = 0;    // 1e9 int8 ops/s (a multiply-add counts as 2)
  double fp32_gflops = 0;  // 1e9 fp32 FMA ops/s (counts as 2)
  double bf16_gflops = 0;  // 0 when the CPU has no BF16 dot instruction
  std::string int8_kind;   // which instruction sequence was timed
};

MachinePeaks measure_peaks(ThreadPool& pool, Isa isa);

}  // namespace minima
