#include "core/kernels/peak.hpp"

#include <immintrin.h>
#include <sys/mman.h>

// GCC 12's AVX-512 reductions start from _mm512_undefined_*(), which it reports as "used
// uninitialized" once inlined (a known false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace minima {
namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double best_seconds(int reps, F&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

// Two ways of streaming a buffer, the faster of which is the peak: plain loads that leave the
// fetching to the hardware prefetchers (fastest on Zen 5, where software prefetch slows a pure
// stream), and loads with a software prefetch 2 KiB ahead (like the decode kernels).
template <bool kPrefetch>
__attribute__((target("avx2"))) float sum_avx2(const float* p, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 32 <= n; i += 32) {
    if constexpr (kPrefetch) {
      __builtin_prefetch(p + i + 512);
      __builtin_prefetch(p + i + 528);
    }
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
  }
  const __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

float sum_scalar(const float* p, size_t n) {
  float a[8] = {};
  for (size_t i = 0; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) a[j] += p[i + j];
  return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

// 6 independent maddubs -> madd -> add chains, each on its own input register (the empty asm
// makes the inputs opaque every iteration, so nothing is hoisted or shared): 32 int8
// multiply-adds (64 ops) per chain step.
__attribute__((target("avx2"))) int int8_avx2(int64_t iters) {
  const __m256i y = _mm256_set1_epi8(5), one = _mm256_set1_epi16(1);
  __m256i x0 = _mm256_set1_epi8(1), x1 = _mm256_set1_epi8(2), x2 = _mm256_set1_epi8(3);
  __m256i x3 = _mm256_set1_epi8(4), x4 = _mm256_set1_epi8(5), x5 = _mm256_set1_epi8(6);
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  for (int64_t i = 0; i < iters; ++i) {
    __asm__ volatile("" : "+x"(x0), "+x"(x1), "+x"(x2), "+x"(x3), "+x"(x4), "+x"(x5));
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_maddubs_epi16(x0, y), one));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_maddubs_epi16(x1, y), one));
    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_maddubs_epi16(x2, y), one));
    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_maddubs_epi16(x3, y), one));
    a4 = _mm256_add_epi32(a4, _mm256_madd_epi16(_mm256_maddubs_epi16(x4, y), one));
    a5 = _mm256_add_epi32(a5, _mm256_madd_epi16(_mm256_maddubs_epi16(x5, y), one));
  }
  const __m256i s =
      _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3)),
                       _mm256_add_epi32(a4, a5));
  return _mm256_extract_epi32(s, 0);
}

// 10 independent FMA chains of 8 floats in named registers (an array would be spilled): enough
// chains to cover the FMA latency on two pipes. 16 flops per FMA.
__attribute__((target("avx2,fma"))) float fp32_avx2(int64_t iters) {
  const __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
  __m256 a0 = _mm256_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0,
         a8 = a0, a9 = a0;
  for (int64_t i = 0; i < iters; ++i) {
    a0 = _mm256_fmadd_ps(a0, x, y);
    a1 = _mm256_fmadd_ps(a1, x, y);
    a2 = _mm256_fmadd_ps(a2, x, y);
    a3 = _mm256_fmadd_ps(a3, x, y);
    a4 = _mm256_fmadd_ps(a4, x, y);
    a5 = _mm256_fmadd_ps(a5, x, y);
    a6 = _mm256_fmadd_ps(a6, x, y);
    a7 = _mm256_fmadd_ps(a7, x, y);
    a8 = _mm256_fmadd_ps(a8, x, y);
    a9 = _mm256_fmadd_ps(a9, x, y);
  }
  const __m256 s =
      _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                    _mm256_add_ps(_mm256_add_ps(a4, a5),
                                  _mm256_add_ps(_mm256_add_ps(a6, a7), _mm256_add_ps(a8, a9))));
  return _mm256_cvtss_f32(s);
}

// AVX-512: 10 independent vpdpbusd chains (64 u8×s8 multiply-adds, 128 ops each) and 10 FMA
// chains of 16 floats (32 flops each), the instructions the AVX-512 kernels use.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) int int8_avx512(int64_t iters) {
  const __m512i y = _mm512_set1_epi8(5);
  __m512i x = _mm512_set1_epi8(1);
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
          a7 = a0, a8 = a0, a9 = a0;
  for (int64_t i = 0; i < iters; ++i) {
    __asm__ volatile("" : "+v"(x));
    a0 = _mm512_dpbusd_epi32(a0, x, y);
    a1 = _mm512_dpbusd_epi32(a1, x, y);
    a2 = _mm512_dpbusd_epi32(a2, x, y);
    a3 = _mm512_dpbusd_epi32(a3, x, y);
    a4 = _mm512_dpbusd_epi32(a4, x, y);
    a5 = _mm512_dpbusd_epi32(a5, x, y);
    a6 = _mm512_dpbusd_epi32(a6, x, y);
    a7 = _mm512_dpbusd_epi32(a7, x, y);
    a8 = _mm512_dpbusd_epi32(a8, x, y);
    a9 = _mm512_dpbusd_epi32(a9, x, y);
  }
  const __m512i s = _mm512_add_epi32(
      _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
      _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7)),
                       _mm512_add_epi32(a8, a9)));
  return _mm512_reduce_add_epi32(s);
}

// 16 independent vdpbf16ps chains (its latency is longer than an FMA's: 10 chains reached ~80%
// of what 16 do on Zen 5), each instruction 32 bf16 products summed in pairs into 16 floats
// (64 flops).
__attribute__((target("avx512f,avx512bf16"))) float bf16_avx512(int64_t iters) {
  constexpr int kChains = 16;
  const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3F80), y = (__m512bh)_mm512_set1_epi16(0x3F7F);
  __m512 a[kChains];
  for (int c = 0; c < kChains; ++c) a[c] = _mm512_setzero_ps();
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) a[c] = _mm512_dpbf16_ps(a[c], x, y);
  }
  __m512 s = a[0];
  for (int c = 1; c < kChains; ++c) s = _mm512_add_ps(s, a[c]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx512f"))) float fp32_avx512(int64_t iters) {
  const __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
  __m512 a0 = _mm512_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0,
         a8 = a0, a9 = a0;
  for (int64_t i = 0; i < iters; ++i) {
    a0 = _mm512_fmadd_ps(a0, x, y);
    a1 = _mm512_fmadd_ps(a1, x, y);
    a2 = _mm512_fmadd_ps(a2, x, y);
    a3 = _mm512_fmadd_ps(a3, x, y);
    a4 = _mm512_fmadd_ps(a4, x, y);
    a5 = _mm512_fmadd_ps(a5, x, y);
    a6 = _mm512_fmadd_ps(a6, x, y);
    a7 = _mm512_fmadd_ps(a7, x, y);
    a8 = _mm512_fmadd_ps(a8, x, y);
    a9 = _mm512_fmadd_ps(a9, x, y);
  }
  const __m512 s =
      _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                    _mm512_add_ps(_mm512_add_ps(a4, a5),
                                  _mm512_add_ps(_mm512_add_ps(a6, a7), _mm512_add_ps(a8, a9))));
  return _mm512_reduce_add_ps(s);
}

}  // namespace

MachinePeaks measure_peaks(ThreadPool& pool, Isa isa) {
  MachinePeaks p;
  const bool simd = isa != Isa::Scalar;

  // Bandwidth: 1 GiB, first touched by the threads that read it (so pages spread like real use),
  // on 2 MiB huge pages where the kernel gives them, as the model's weights are
  // (core/mapped_file.hpp): with 4 KiB pages the TLB, not DRAM, sets the speed.
  const size_t bytes = size_t(1) << 30, n = bytes / sizeof(float);
  std::unique_ptr<float, decltype(&std::free)> buf(
      static_cast<float*>(std::aligned_alloc(size_t(2) << 20, bytes)), &std::free);
  float* b = buf.get();
  ::madvise(b, bytes, MADV_HUGEPAGE);  // a hint: fine if refused
  pool.parallel_for(static_cast<int64_t>(n / 1024), [&](int64_t s, int64_t e) {
    std::memset(b + s * 1024, 0, static_cast<size_t>(e - s) * 1024 * sizeof(float));
  });
  float sinks[1024] = {};  // one per thread: keeps the work observable without a data race
  double t_bw = 1e30;
  for (bool prefetch : {false, true}) {
    t_bw = std::min(t_bw, best_seconds(5, [&] {
      pool.run([&](int ith, int nth) {
        const size_t chunk = n / static_cast<size_t>(nth) / 32 * 32;
        const float* q = b + chunk * static_cast<size_t>(ith);
        sinks[ith] = !simd ? sum_scalar(q, chunk)
                     : prefetch ? sum_avx2<true>(q, chunk)
                                : sum_avx2<false>(q, chunk);
      });
    }));
  }
  p.read_gbps = double(bytes) / t_bw / 1e9;

  if (simd) {
    const int64_t iters = 20'000'000;
    if (isa == Isa::Avx512) {
      const double t_i8 = best_seconds(
          3, [&] { pool.run([&](int ith, int) { sinks[ith] = float(int8_avx512(iters)); }); });
      p.int8_gops = double(pool.size()) * double(iters) * 10 * 128 / t_i8 / 1e9;
      p.int8_kind = "avx512 vpdpbusd";
      const double t_f = best_seconds(
          3, [&] { pool.run([&](int ith, int) { sinks[ith] = fp32_avx512(iters); }); });
      p.fp32_gflops = double(pool.size()) * double(iters) * 10 * 32 / t_f / 1e9;
      if (cpu_has_avx512_bf16()) {
        const double t_b = best_seconds(
            3, [&] { pool.run([&](int ith, int) { sinks[ith] = bf16_avx512(iters); }); });
        p.bf16_gflops = double(pool.size()) * double(iters) * 16 * 64 / t_b / 1e9;
      }
    } else {
      const double t_i8 = best_seconds(
          3, [&] { pool.run([&](int ith, int) { sinks[ith] = float(int8_avx2(iters)); }); });
      p.int8_gops = double(pool.size()) * double(iters) * 6 * 64 / t_i8 / 1e9;
      p.int8_kind = "avx2 vpmaddubsw+vpmaddwd";
      const double t_f =
          best_seconds(3, [&] { pool.run([&](int ith, int) { sinks[ith] = fp32_avx2(iters); }); });
      p.fp32_gflops = double(pool.size()) * double(iters) * 10 * 16 / t_f / 1e9;
    }
  }
  volatile float keep = sinks[0];
  (void)keep;
  return p;
}

}  // namespace minima
