// The prefill GEMM (core/gemm.hpp) on every kernel table this CPU runs, against a double-precision
// product of the reference-dequantized weights and the activations.
//
// Error bound: gemm_rows dequantizes bit-identically to dequantize_row_ref (kernels_test checks
// every dequantizer), so the only error is the float summation. Each output element is one chain
// s_k = fl(s_{k-1} + w_k·x_k) in increasing k: the AVX2 kernel fuses each step (one rounding of
// relative size <= u = 2^-24), the scalar reference rounds the product and then the sum (two).
// The classic bound for a recursive dot product (Higham, Accuracy and Stability, §3.1) gives
// |s_K − Σ w_k·x_k| <= γ_K · Σ |w_k·x_k| with γ_K = K·u / (1 − K·u) for both, i.e. c = 1 in
// c·K·u·Σ|w·x|: each of the K terms passes through at most K roundings. Subnormal products and
// sums add at most half an ulp of the smallest subnormal (2^-150) per rounding, 2·K of them. The
// double reference itself is within K·2^-53·Σ|w·x|, added to the tolerance.
//
// matmul() splits rows among threads but each element is still computed by one thread with the
// same chain, so any thread count must give gemm_rows' single-threaded result bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/gemm.hpp"
#include "core/kernels/kernels.hpp"
#include "core/matmul.hpp"
#include "core/qgemm.hpp"
#include "core/threads.hpp"
#include "quant_test_util.hpp"

namespace minima {
namespace {

// Row lengths for t: small, one k-block, several k-blocks with a remainder.
std::vector<int64_t> lengths(DType t) {
  const int64_t bs = type_info(t).block_size;
  if (bs == 1) return {1, 7, 33, 256, 300, 4096 + 32};
  if (bs == 32) return {32, 96, 256, 288, 4096 + 32};
  return {256, 512, 4096 + 256};
}

double tolerance(int64_t k, double magnitude) {
  const double u = test::kFloatEps, kd = double(k);
  const double gamma = kd * u / (1.0 - kd * u);
  return (gamma + kd * 0x1p-53) * magnitude + 2.0 * kd * 0x1p-150;
}

struct Problem {
  DType type;
  int64_t n_out, k, n_tok;
  std::vector<uint8_t> w;  // [n_out] rows of type
  std::vector<float> x;    // [n_tok, k]
  TensorView view() const { return make_view(type, k, n_out, w.data()); }
};

Problem make_problem(DType t, int64_t n_out, int64_t k, int64_t n_tok, std::mt19937& rng) {
  Problem p{t, n_out, k, n_tok, {}, test::gaussian(n_tok * k, rng)};
  const size_t rs = row_size(t, k);
  p.w.resize(rs * size_t(n_out));
  for (int64_t r = 0; r < n_out; ++r) {
    const auto row = test::random_row(t, k, rng, false);
    std::memcpy(p.w.data() + rs * size_t(r), row.data(), rs);
  }
  return p;
}

// Checks y[t·ldy + r] for r in [r0, r1) against the double reference and that every other
// element of y still holds the sentinel.
void check_rows(const Problem& p, int64_t r0, int64_t r1, const std::vector<float>& y, int64_t ldy,
                const std::string& what) {
  std::vector<float> wd(size_t(p.k));
  const float sentinel = std::numeric_limits<float>::quiet_NaN();
  for (int64_t r = 0; r < ldy; ++r) {
    const bool mine = r >= r0 && r < r1;
    if (mine) quant::dequantize_row_ref(p.type, p.view().row(r), wd.data(), p.k);
    for (int64_t t = 0; t < p.n_tok; ++t) {
      const float got = y[size_t(t * ldy + r)];
      if (!mine) {
        ASSERT_EQ(0, std::memcmp(&got, &sentinel, 4)) << what << " wrote outside its rows: r=" << r;
        continue;
      }
      double want = 0, mag = 0;
      for (int64_t i = 0; i < p.k; ++i) {
        const double prod = double(wd[size_t(i)]) * double(p.x[size_t(t * p.k + i)]);
        want += prod;
        mag += std::fabs(prod);
      }
      ASSERT_LE(std::fabs(double(got) - want), tolerance(p.k, mag))
          << what << " r=" << r << " t=" << t << " want=" << want << " got=" << got;
    }
  }
}

std::string describe(Isa isa, const Problem& p, int64_t r0, int64_t r1) {
  return std::string(isa_name(isa)) + " " + std::string(type_info(p.type).name) +
         " k=" + std::to_string(p.k) + " n_tok=" + std::to_string(p.n_tok) + " rows [" +
         std::to_string(r0) + ", " + std::to_string(r1) + ")";
}

TEST(Gemm, RowsMatchDoubleReference) {
  std::mt19937 rng(31);
  const int64_t n_tok_list[] = {8, 9, 13, 64, 67};
  for (DType t : test::weight_types()) {
    for (int64_t k : lengths(t)) {
      for (int64_t n_tok : n_tok_list) {
        // Big products only for one token count, to keep the run short.
        if (k > 1000 && n_tok != 13) continue;
        const int64_t n_out = 40;
        const Problem p = make_problem(t, n_out, k, n_tok, rng);
        const int64_t ldy = n_out + 5;
        std::vector<float> scratch(size_t(gemm_scratch_floats(k)));
        // Whole matrix (a partial last panel), an aligned start with a ragged end, and a start
        // that is not a multiple of 16.
        const std::pair<int64_t, int64_t> ranges[] = {{0, n_out}, {16, 37}, {5, 24}};
        for (Isa isa : test::runnable_isas()) {
          for (auto [r0, r1] : ranges) {
            std::vector<float> y(size_t(n_tok * ldy), std::numeric_limits<float>::quiet_NaN());
            gemm_rows(kernels_for(isa), p.view(), r0, r1, p.x.data(), n_tok, y.data(), ldy,
                      scratch.data());
            check_rows(p, r0, r1, y, ldy, describe(isa, p, r0, r1));
          }
        }
      }
    }
  }
}

// More rows than one strip, and weights with extreme (incl. subnormal) scales.
TEST(Gemm, SeveralStripsAndExtremeScales) {
  std::mt19937 rng(32);
  for (DType t : test::weight_types()) {
    const int64_t k = type_info(t).block_size == 1 ? 300 : 512;
    const int64_t n_out = kGemmStripRows * 2 + 21, n_tok = 11;
    Problem p = make_problem(t, n_out, k, n_tok, rng);
    if (t != DType::F32) {  // extreme F32 products could overflow the float sum
      const size_t rs = row_size(t, k);
      for (int64_t r = 0; r < n_out; r += 3) {
        const auto row = test::random_row(t, k, rng, true);
        std::memcpy(p.w.data() + rs * size_t(r), row.data(), rs);
      }
    }
    std::vector<float> scratch(size_t(gemm_scratch_floats(k)));
    for (Isa isa : test::runnable_isas()) {
      std::vector<float> y(size_t(n_tok * n_out), std::numeric_limits<float>::quiet_NaN());
      gemm_rows(kernels_for(isa), p.view(), 0, n_out, p.x.data(), n_tok, y.data(), n_out,
                scratch.data());
      check_rows(p, 0, n_out, y, n_out, describe(isa, p, 0, n_out));
    }
  }
}

// The kernel entries themselves, on shapes gemm_rows does not produce: kc not a multiple of 8
// and above the AVX2 kernel's activation chunk, token counts 1..13, unaligned pointers,
// accumulation into existing values.
TEST(Gemm, KernelEntriesMatchReference) {
  std::mt19937 rng(33);
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& ks = kernels_for(isa);
    for (int64_t kc : {1, 5, 8, 37, 256, 300, 700}) {
      std::vector<float> rows = test::gaussian(kGemmPanelRows * (kc + 3) + 1, rng);
      std::vector<float> want(size_t(kc * kGemmPanelRows) + 1), got(want.size());
      gemm_pack_ref(rows.data() + 1, kc + 3, kc, want.data() + 1);
      ks.gemm_pack(rows.data() + 1, kc + 3, kc, got.data() + 1);
      ASSERT_EQ(want, got) << isa_name(isa) << " pack kc=" << kc;

      for (int64_t n_tok = 1; n_tok <= 13; n_tok += 3) {
        const int64_t n_panels = 3, ldx = kc + 2, ldy = n_panels * kGemmPanelRows + 3;
        const auto panels = test::gaussian(n_panels * kc * kGemmPanelRows + 1, rng);
        const auto x = test::gaussian(n_tok * ldx, rng);
        for (bool accumulate : {false, true}) {
          const auto y0 = test::gaussian(n_tok * ldy, rng);
          std::vector<float> y = y0;
          ks.gemm_tile(panels.data() + 1, n_panels, kc, x.data(), ldx, n_tok, y.data(), ldy,
                       accumulate);
          for (int64_t t = 0; t < n_tok; ++t) {
            for (int64_t c = 0; c < ldy; ++c) {
              const size_t at = size_t(t * ldy + c);
              if (c >= n_panels * kGemmPanelRows) {
                ASSERT_EQ(y[at], y0[at]) << "wrote past the panels";
                continue;
              }
              const int64_t p = c / kGemmPanelRows, i = c % kGemmPanelRows;
              double s = accumulate ? double(y0[at]) : 0.0, mag = std::fabs(s);
              for (int64_t k = 0; k < kc; ++k) {
                const double prod = double(panels[size_t(1 + (p * kc + k) * kGemmPanelRows + i)]) *
                                    double(x[size_t(t * ldx + k)]);
                s += prod;
                mag += std::fabs(prod);
              }
              // kc products plus the initial value: kc + 1 terms.
              ASSERT_LE(std::fabs(double(y[at]) - s), tolerance(kc + 1, mag))
                  << isa_name(isa) << " tile kc=" << kc << " n_tok=" << n_tok << " t=" << t
                  << " c=" << c << " accumulate=" << accumulate;
            }
          }
        }
      }
    }
  }
}

// The prefill path matmul() takes for the type, on one thread: the integer GEMM where the table
// has it (core/qgemm.hpp), else gemm_rows.
std::vector<float> prefill_one_thread(const KernelSet& ks, const Problem& p) {
  std::vector<float> y(size_t(p.n_tok * p.n_out));
  if (has_qgemm(ks, p.type)) {
    std::vector<uint8_t> acts(qgemm_act_bytes(p.n_tok, p.k) + 64), tmp(row_size(DType::Q8_0, p.k));
    uint8_t* buf = acts.data() + (64 - reinterpret_cast<uintptr_t>(acts.data()) % 64) % 64;
    qgemm_quantize(ks, p.type, p.x.data(), p.n_tok, p.k, 0, p.n_tok, buf, tmp.data());
    std::vector<uint8_t> scratch(qgemm_scratch_bytes());
    qgemm_rows(ks, p.view(), 0, p.n_out, qgemm_acts(buf, p.n_tok, p.k), p.n_tok, y.data(), p.n_out,
               scratch.data());
  } else {
    std::vector<float> scratch(size_t(gemm_scratch_floats(p.k)));
    gemm_rows(ks, p.view(), 0, p.n_out, p.x.data(), p.n_tok, y.data(), p.n_out, scratch.data());
  }
  return y;
}

// matmul() with 1, 2 and 3 threads (odd splits of the 16-row blocks) equals its prefill path on
// one thread bit for bit.
TEST(Gemm, MatmulThreadsAreBitIdentical) {
  std::mt19937 rng(34);
  const DType types[] = {DType::F16,  DType::Q4_0, DType::Q8_0,
                         DType::Q5_1, DType::Q4_K, DType::Q6_K};
  for (DType t : types) {
    const int64_t k = 512, n_out = 16 * 11 + 7;
    for (int64_t n_tok : {1, 8, 23}) {
      const Problem p = make_problem(t, n_out, k, n_tok, rng);
      for (Isa isa : test::runnable_isas()) {
        const KernelSet& ks = kernels_for(isa);
        const std::vector<float> want = prefill_one_thread(ks, p);
        for (int threads : {1, 2, 3}) {
          ThreadPool pool(threads);
          MatmulScratch ms(k, n_tok, threads);
          std::vector<float> got(want.size(), -1.0f);
          matmul(ks, pool, ms, p.view(), p.x.data(), n_tok, got.data(), false, 0);
          ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * 4))
              << isa_name(isa) << " " << type_info(t).name << " n_tok=" << n_tok
              << " threads=" << threads;
        }
      }
    }
  }
}

// The invariant continuous batching rests on: a row's result depends only on the row and its path
// (decode or prefill), never on the other rows of the call, their number or its place among them.
// Each row of a mixed batch equals the same row computed alone on the same path, bit for bit.
TEST(Matmul, RowsDoNotDependOnTheirNeighbours) {
  std::mt19937 rng(57);
  const DType types[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                         DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                         DType::Q4_K, DType::Q5_K, DType::Q6_K};
  struct Shape {
    DType t;
    int64_t k, n_out;
  };
  std::vector<Shape> shapes;
  for (DType t : types) shapes.push_back({t, 512, 16 * 3 + 5});
  // Row lengths that are not a multiple of 8 or of the GEMM k-block (stories260K's 64 and 172).
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    shapes.push_back({t, 64, 512});
    shapes.push_back({t, 172, 64});
  }
  for (const auto& [t, k, n_out] : shapes) {
    const int64_t n_tok = 13;
    const Problem p = make_problem(t, n_out, k, n_tok, rng);
    for (Isa isa : test::runnable_isas()) {
      const KernelSet& ks = kernels_for(isa);
      for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        MatmulScratch ms(k, n_tok, threads);
        for (int64_t n_decode : {int64_t{0}, int64_t{3}, int64_t{1}, n_tok}) {
          std::vector<float> all(size_t(n_tok * n_out));
          matmul(ks, pool, ms, p.view(), p.x.data(), n_tok, all.data(), false, n_decode);
          for (int64_t tk = 0; tk < n_tok; ++tk) {
            std::vector<float> one(static_cast<size_t>(n_out));
            matmul(ks, pool, ms, p.view(), p.x.data() + tk * k, 1, one.data(), false,
                   tk < n_decode ? 1 : 0);
            ASSERT_EQ(0, std::memcmp(one.data(), all.data() + tk * n_out, one.size() * 4))
                << isa_name(isa) << " " << type_info(t).name << " row " << tk << " of " << n_tok
                << ", " << n_decode << " decode rows, threads=" << threads;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace minima

namespace minima {
namespace {

// matmul_shared_input (one activation conversion for weights sharing an input) gives each output
// the bits of its own matmul() call: all-decode, all-prompt and mixed batches, weights of one type
// and of types with different code offsets or activation types.
TEST(Matmul, SharedInputEqualsSeparateCalls) {
  std::mt19937 rng(58);
  const std::vector<std::vector<DType>> groups = {{DType::Q4_0, DType::Q4_0, DType::Q4_0},
                                                  {DType::Q8_0, DType::Q8_0},
                                                  {DType::Q4_K, DType::Q4_K, DType::Q6_K},
                                                  {DType::F16, DType::F16},
                                                  {DType::Q4_0, DType::Q4_K}};
  const int64_t k = 512, n_tok = 11;
  for (const auto& types : groups) {
    std::vector<Problem> ps;
    for (size_t i = 0; i < types.size(); ++i)
      ps.push_back(make_problem(types[i], 40 + 16 * int64_t(i), k, n_tok, rng));
    const auto x = test::gaussian(n_tok * k, rng);
    for (Isa isa : test::runnable_isas()) {
      const KernelSet& ks = kernels_for(isa);
      ThreadPool pool(2);
      MatmulScratch ms(k, n_tok, 2);
      for (int64_t n_decode : {int64_t{0}, n_tok, int64_t{3}}) {
        std::vector<TensorView> views;
        for (const auto& p : ps) views.push_back(p.view());
        std::vector<const TensorView*> ws;
        std::vector<std::vector<float>> got(ps.size()), want(ps.size());
        std::vector<float*> ys;
        for (size_t i = 0; i < ps.size(); ++i) {
          ws.push_back(&views[i]);
          got[i].assign(size_t(n_tok * ps[i].n_out), -1.0f);
          want[i].assign(got[i].size(), -2.0f);
          ys.push_back(got[i].data());
          matmul(ks, pool, ms, views[i], x.data(), n_tok, want[i].data(), false, n_decode);
        }
        matmul_shared_input(ks, pool, ms, ws, x.data(), n_tok, ys, false, n_decode);
        for (size_t i = 0; i < ps.size(); ++i)
          ASSERT_EQ(0, std::memcmp(want[i].data(), got[i].data(), got[i].size() * 4))
              << isa_name(isa) << " weight " << i << " (" << type_info(types[i]).name
              << ") n_decode=" << n_decode;
      }
    }
  }
}

}  // namespace
}  // namespace minima
