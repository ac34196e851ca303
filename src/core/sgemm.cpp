// The training GEMM's driver: blocking, packing and the thread split (design and numerics in
// core/sgemm.hpp). Packing is plain C++: it touches each input element once per block, the
// microkernel touches it MR or NR times per block.
#include "core/sgemm.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "core/error.hpp"
#include "core/fp16.hpp"

namespace minima {

GemmWorkspace::GemmWorkspace(int n_threads) {
  if (n_threads < 1) fail("GemmWorkspace: thread count ", n_threads, " must be >= 1");
  threads_.resize(size_t(n_threads));
  for (auto& t : threads_) {
    t.a.assign(size_t((kSgemmMc + kSgemmMaxMr) * kSgemmKc), 0.0f);
    t.b.assign(size_t((kSgemmNc + kSgemmMaxNr) * kSgemmKc), 0.0f);
    t.tile.assign(size_t(kSgemmMaxMr * kSgemmMaxNr), 0.0f);
  }
  for (auto& b : shared_b_) b.assign(size_t((kSgemmNc + kSgemmMaxNr) * kSgemmKc), 0.0f);
}

namespace {

// All threads of one pool job meet here. They all run the job at once, so a short spin is the
// cheap case; after it the waiter yields its core, because a thread that has been preempted (more
// runnable threads than cores) cannot arrive while the others spin on every core.
class SpinBarrier {
 public:
  void wait(int n) {
    const int gen = gen_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) == n - 1) {
      count_.store(0, std::memory_order_relaxed);
      gen_.fetch_add(1, std::memory_order_release);
      return;
    }
    for (int spin = 0; gen_.load(std::memory_order_acquire) == gen; ++spin) {
      if (spin < 4000) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  std::atomic<int> count_{0}, gen_{0};
};

// Two floats rounded to bfloat16 as one little-endian word, lo first: the pair layout of the BF16
// panels (the scalar packing; the kernel tables' pack_bf16_* write the same bits).
inline uint32_t bf16_pair(float lo, float hi) {
  return uint32_t(fp32_to_bf16(lo)) | uint32_t(fp32_to_bf16(hi)) << 16;
}

}  // namespace

struct SgemmDriver {
  const SgemmKernels& kern;
  GemmPrecision prec;
  const GemmShape& s;
  float alpha;
  const float* a;
  const float* b;
  float* c;
  bool accumulate;

  // Depth of a packed block as the microkernel sees it (BF16 pairs: rounded up to even).
  int64_t packed_depth(int64_t kc) const {
    return prec == GemmPrecision::BF16 ? (kc + 1) / 2 * 2 : kc;
  }

  // Column panel p of the block (columns j0 + p·nr.., depth k0..k0+kc) into dst: F32 [kc][nr],
  // BF16 [kcp/2][nr][2]; zero past n and past kc. Inner loops run along B's contiguous dimension.
  void pack_b_panel(int64_t j0, int64_t k0, int64_t kc, int64_t p, float* dst) const {
    const int nr = kern.nr;
    const int64_t jb = j0 + p * nr, cols = std::min<int64_t>(nr, s.n - jb);
    const int64_t kcp = packed_depth(kc);
    if (prec == GemmPrecision::F32) {
      if (cols < nr) std::fill_n(dst, kc * nr, 0.0f);
      if (!s.tb) {
        for (int64_t k = 0; k < kc; ++k)
          std::memcpy(dst + k * nr, b + (k0 + k) * s.ldb + jb, size_t(cols) * 4);
      } else {
        for (int64_t jj = 0; jj < cols; ++jj) {
          const float* src = b + (jb + jj) * s.ldb + k0;
          for (int64_t k = 0; k < kc; ++k) dst[k * nr + jj] = src[k];
        }
      }
      return;
    }
    // BF16: the two k of a pair are one 32-bit word per column, [kcp/2][nr] words.
    auto* d32 = reinterpret_cast<uint32_t*>(dst);
    if (cols < nr || kcp > kc) std::fill_n(d32, kcp / 2 * nr, 0u);
    if (kern.pack_bf16_n != nullptr) {
      if (!s.tb) {
        kern.pack_bf16_n(b + k0 * s.ldb + jb, s.ldb, cols, kc, 1.0f, d32, nr);
      } else {
        kern.pack_bf16_t(b + jb * s.ldb + k0, s.ldb, cols, kc, 1.0f, d32, nr);
      }
      return;
    }
    if (!s.tb) {
      for (int64_t k = 0; k < kc; k += 2) {
        const float* r0 = b + (k0 + k) * s.ldb + jb;
        const float* r1 = k + 1 < kc ? r0 + s.ldb : nullptr;
        uint32_t* d = d32 + (k / 2) * nr;
        for (int64_t jj = 0; jj < cols; ++jj) d[jj] = bf16_pair(r0[jj], r1 ? r1[jj] : 0.0f);
      }
    } else {
      for (int64_t jj = 0; jj < cols; ++jj) {
        const float* src = b + (jb + jj) * s.ldb + k0;
        int64_t k = 0;
        for (; k + 1 < kc; k += 2) d32[(k / 2) * nr + jj] = bf16_pair(src[k], src[k + 1]);
        if (k < kc) d32[(k / 2) * nr + jj] = bf16_pair(src[k], 0.0f);
      }
    }
  }

  // Row panels of op(A) rows [i0, i0 + mc), depth k0..k0+kc, scaled by α: panel q at
  // dst + q·(kcp·mr) floats (F32 [kc][mr]; BF16 [kcp/2][mr][2] in the first half). Inner loops run
  // along A's contiguous dimension.
  void pack_a(int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* dst) const {
    const int mr = kern.mr;
    const int64_t kcp = packed_depth(kc), panels = (mc + mr - 1) / mr;
    for (int64_t q = 0; q < panels; ++q) {
      float* pq = dst + q * kcp * mr;
      const int64_t ib = i0 + q * mr, rows = std::min<int64_t>(mr, i0 + mc - ib);
      if (prec == GemmPrecision::F32) {
        if (rows < mr) std::fill_n(pq, kc * mr, 0.0f);
        if (!s.ta) {
          for (int64_t ii = 0; ii < rows; ++ii) {
            const float* src = a + (ib + ii) * s.lda + k0;
            for (int64_t k = 0; k < kc; ++k) pq[k * mr + ii] = alpha * src[k];
          }
        } else {
          for (int64_t k = 0; k < kc; ++k) {
            const float* src = a + (k0 + k) * s.lda + ib;
            for (int64_t ii = 0; ii < rows; ++ii) pq[k * mr + ii] = alpha * src[ii];
          }
        }
        continue;
      }
      auto* d32 = reinterpret_cast<uint32_t*>(pq);
      if (rows < mr || kcp > kc) std::fill_n(d32, kcp / 2 * mr, 0u);
      if (kern.pack_bf16_t != nullptr) {
        if (!s.ta) {
          kern.pack_bf16_t(a + ib * s.lda + k0, s.lda, rows, kc, alpha, d32, mr);
        } else {
          kern.pack_bf16_n(a + k0 * s.lda + ib, s.lda, rows, kc, alpha, d32, mr);
        }
        continue;
      }
      if (!s.ta) {
        for (int64_t ii = 0; ii < rows; ++ii) {
          const float* src = a + (ib + ii) * s.lda + k0;
          int64_t k = 0;
          for (; k + 1 < kc; k += 2)
            d32[(k / 2) * mr + ii] = bf16_pair(alpha * src[k], alpha * src[k + 1]);
          if (k < kc) d32[(k / 2) * mr + ii] = bf16_pair(alpha * src[k], 0.0f);
        }
      } else {
        for (int64_t k = 0; k < kc; k += 2) {
          const float* r0 = a + (k0 + k) * s.lda + ib;
          const float* r1 = k + 1 < kc ? r0 + s.lda : nullptr;
          uint32_t* d = d32 + (k / 2) * mr;
          for (int64_t ii = 0; ii < rows; ++ii)
            d[ii] = bf16_pair(alpha * r0[ii], r1 ? alpha * r1[ii] : 0.0f);
        }
      }
    }
  }

  // One tile: rows [i, i + mr), columns [j, j + nr) of C, through tile when it is partial.
  void tile(int64_t kcp, const float* ap, const float* bp, int64_t i, int64_t j, bool load_c,
            float* tile_buf) const {
    const int mr = kern.mr, nr = kern.nr;
    const int64_t rows = std::min<int64_t>(mr, s.m - i), cols = std::min<int64_t>(nr, s.n - j);
    float* dst = c + i * s.ldc + j;
    int64_t ld = s.ldc;
    if (rows < mr || cols < nr) {
      dst = tile_buf;
      ld = nr;
      if (load_c)
        for (int64_t r = 0; r < rows; ++r)
          std::memcpy(tile_buf + r * nr, c + (i + r) * s.ldc + j, size_t(cols) * 4);
    }
    if (prec == GemmPrecision::F32) {
      kern.f32(kcp, ap, bp, dst, ld, load_c);
    } else {
      kern.bf16(kcp, reinterpret_cast<const uint16_t*>(ap), reinterpret_cast<const uint16_t*>(bp),
                dst, ld, load_c);
    }
    if (dst == tile_buf)
      for (int64_t r = 0; r < rows; ++r)
        std::memcpy(c + (i + r) * s.ldc + j, tile_buf + r * nr, size_t(cols) * 4);
  }

  // Row panels [q0, q1) of the whole M against the packed block (columns j0..j0+nc).
  void compute(int64_t q0, int64_t q1, int64_t j0, int64_t nc, int64_t k0, int64_t kc,
               const float* bpack, GemmWorkspace::PerThread& t) const {
    const int mr = kern.mr, nr = kern.nr;
    const int64_t kcp = packed_depth(kc), bpanels = (nc + nr - 1) / nr;
    const int64_t mc_panels = kSgemmMc / mr;
    const bool load_c = accumulate || k0 > 0;
    for (int64_t qa = q0; qa < q1; qa += mc_panels) {
      const int64_t qn = std::min(mc_panels, q1 - qa);
      const int64_t i0 = qa * mr, mc = std::min(qn * mr, s.m - i0);
      pack_a(i0, mc, k0, kc, t.a.data());
      for (int64_t p = 0; p < bpanels; ++p)
        for (int64_t q = 0; q < qn; ++q)
          tile(kcp, t.a.data() + q * kcp * mr, bpack + p * kcp * nr, i0 + q * mr, j0 + p * nr,
               load_c, t.tile.data());
    }
  }

  void run(ThreadPool* pool, GemmWorkspace& ws, int ith_serial) const {
    if (s.m <= 0 || s.n <= 0) return;
    if (s.k <= 0) {
      if (!accumulate)
        for (int64_t i = 0; i < s.m; ++i) std::fill_n(c + i * s.ldc, s.n, 0.0f);
      return;
    }
    const int nr = kern.nr;
    const int64_t row_panels = (s.m + kern.mr - 1) / kern.mr;
    if (pool == nullptr) {
      GemmWorkspace::PerThread& t = ws.threads_[size_t(ith_serial)];
      for (int64_t j0 = 0; j0 < s.n; j0 += kSgemmNc) {
        const int64_t nc = std::min(kSgemmNc, s.n - j0), bpanels = (nc + nr - 1) / nr;
        for (int64_t k0 = 0; k0 < s.k; k0 += kSgemmKc) {
          const int64_t kc = std::min(kSgemmKc, s.k - k0), kcp = packed_depth(kc);
          for (int64_t p = 0; p < bpanels; ++p)
            pack_b_panel(j0, k0, kc, p, t.b.data() + p * kcp * nr);
          compute(0, row_panels, j0, nc, k0, kc, t.b.data(), t);
        }
      }
      return;
    }
    SpinBarrier barrier;
    pool->run([&](int ith, int nth) {
      const int64_t q0 = row_panels * ith / nth, q1 = row_panels * (ith + 1) / nth;
      int parity = 0;
      for (int64_t j0 = 0; j0 < s.n; j0 += kSgemmNc) {
        const int64_t nc = std::min(kSgemmNc, s.n - j0), bpanels = (nc + nr - 1) / nr;
        for (int64_t k0 = 0; k0 < s.k; k0 += kSgemmKc) {
          const int64_t kc = std::min(kSgemmKc, s.k - k0), kcp = packed_depth(kc);
          float* bpack = ws.shared_b_[parity].data();
          for (int64_t p = bpanels * ith / nth; p < bpanels * (ith + 1) / nth; ++p)
            pack_b_panel(j0, k0, kc, p, bpack + p * kcp * nr);
          barrier.wait(nth);
          if (q0 < q1) compute(q0, q1, j0, nc, k0, kc, bpack, ws.threads_[size_t(ith)]);
          parity ^= 1;
        }
      }
    });
  }
};

namespace {

const SgemmKernels& checked(const KernelSet& ks, GemmPrecision prec) {
  if (ks.sgemm.f32 == nullptr || ks.sgemm.mr > kSgemmMaxMr || ks.sgemm.nr > kSgemmMaxNr)
    fail("sgemm: the ", isa_name(ks.isa), " kernel table has no training GEMM");
  if (prec == GemmPrecision::BF16 && ks.sgemm.bf16 == nullptr)
    fail("sgemm: BF16 products need AVX512_BF16, which the ", isa_name(ks.isa),
         " kernel table does not have");
  return ks.sgemm;
}

}  // namespace

void sgemm(const KernelSet& ks, ThreadPool& pool, GemmWorkspace& ws, GemmPrecision prec,
           const GemmShape& s, float alpha, const float* a, const float* b, float* c,
           bool accumulate) {
  if (ws.n_threads() < pool.size())
    fail("sgemm: workspace for ", ws.n_threads(), " threads used with a pool of ", pool.size());
  const SgemmDriver d{checked(ks, prec), prec, s, alpha, a, b, c, accumulate};
  d.run(&pool, ws, 0);
}

void sgemm_serial(const KernelSet& ks, GemmWorkspace& ws, int ith, GemmPrecision prec,
                  const GemmShape& s, float alpha, const float* a, const float* b, float* c,
                  bool accumulate) {
  if (ith < 0 || ith >= ws.n_threads())
    fail("sgemm_serial: thread ", ith, " outside the workspace's ", ws.n_threads());
  const SgemmDriver d{checked(ks, prec), prec, s, alpha, a, b, c, accumulate};
  d.run(nullptr, ws, ith);
}

}  // namespace minima
