// The decode GEMV: the multi-row dots (KernelSet::dot_rows) of every table this CPU runs, and
// gemv_rows through matmul().
//
// Tolerance against the scalar reference (one vec_dot_ref per row): both add per block terms of
// the form (float product of the scales) × (exact integer block sum, or partial sums of it, each
// converted to float), each term carrying a few roundings, then sum them — the reference in block
// order, the fast kernels in eight interleaved partial sums added at the end (plus one addition
// per extra pass over rows longer than a pass). Whatever the order, a sum of N such terms is
// within γ_{N+8}·M of the exact value (Higham §3.1; M = test::dot_magnitude bounds the sum of the
// terms' magnitudes, see quant_dot_test.cpp), so the two are within 2·(N + 8)·u·M of each other,
// N = test::dot_terms. This is the bound kernels_test uses for the single-row dots.
//
// Determinism: a row's value must not depend on which rows share the call or where the range
// starts (that is what makes every thread split give the same bits), so sub-ranges are compared
// with the full call bit for bit, and matmul() with 1, 2 and 3 threads with gemv_rows on one
// thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "core/gemv.hpp"
#include "core/kernels/kernels.hpp"
#include "core/matmul.hpp"
#include "core/threads.hpp"
#include "quant_test_util.hpp"

namespace minima {
namespace {

// Lengths of 1..8 blocks (for the 32-element formats also 9, 17: a group of eight plus a
// remainder; 15, 16, 31, 32, 33: around groups of sixteen), float types 1..300 elements and 4096.
std::vector<int64_t> lengths(DType t) {
  const int64_t bs = type_info(t).block_size;
  std::vector<int64_t> v;
  if (bs == 1) {
    for (int64_t n : {1, 2, 7, 8, 9, 31, 32, 33, 63, 64, 65, 255, 256, 300, 4096}) v.push_back(n);
    return v;
  }
  for (int64_t b = 1; b <= 8; ++b) v.push_back(b * bs);
  if (bs == 32) {
    for (int64_t b : {9, 15, 16, 17, 31, 32, 33}) v.push_back(b * bs);
  }
  return v;
}

// n_rows random rows of wt (half of them with extreme scales), stored row after row.
std::vector<uint8_t> random_rows(DType wt, int64_t n, int64_t n_rows, std::mt19937& rng) {
  const size_t rs = row_size(wt, n);
  std::vector<uint8_t> w(rs * size_t(n_rows));
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto row = test::random_row(wt, n, rng, r % 2 == 1);
    std::memcpy(w.data() + rs * size_t(r), row.data(), rs);
  }
  return w;
}

std::vector<uint8_t> row_of(const std::vector<uint8_t>& w, size_t rs, int64_t r) {
  return {w.begin() + long(rs) * r, w.begin() + long(rs) * (r + 1)};
}

// Every row of dot_rows against vec_dot_ref within the bound above.
void check_rows(const KernelSet& k, DType wt, const std::vector<uint8_t>& w, int64_t n_rows,
                const std::vector<uint8_t>& a, int64_t n, const char* what) {
  const size_t rs = row_size(wt, n);
  const DType at = type_info(wt).vec_dot_type;
  const auto ad = test::dequantize(at, a.data(), n);
  std::vector<float> got(size_t(n_rows) + 1, -7.0f);
  k.dot_rows_for(wt)(w.data(), rs, n_rows, a.data(), n, got.data());
  ASSERT_EQ(got[size_t(n_rows)], -7.0f) << "wrote past the rows";
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto row = row_of(w, rs, r);
    const double m = test::dot_magnitude(wt, row, ad);
    const double tol = 2.0 * double(test::dot_terms(wt, n) + 8) * test::kFloatEps * m;
    const double want = quant::vec_dot_ref(wt, row.data(), a.data(), n);
    ASSERT_LE(std::fabs(double(got[size_t(r)]) - want), tol)
        << isa_name(k.isa) << " " << type_info(wt).name << " n=" << n << " row " << r << "/"
        << n_rows << " " << what << " ref=" << want;
  }
}

TEST(Gemv, TablesHaveDotRows) {
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& k = kernels_for(isa);
    for (uint32_t id = 0; id < kDTypeCount; ++id) {
      const auto ti = type_info(id);
      if (!ti) continue;
      EXPECT_EQ(k.dot_rows[id] != nullptr, ti->weight_supported)
          << isa_name(isa) << " " << ti->name;
    }
  }
}

TEST(Gemv, DotRowsMatchReference) {
  std::mt19937 rng(41);
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& k = kernels_for(isa);
    for (DType wt : test::weight_types()) {
      const DType at = type_info(wt).vec_dot_type;
      for (int64_t n : lengths(wt)) {
        const int64_t n_rows = 1 + (n / type_info(wt).block_size) % 5;  // 1..5 rows
        const auto w = random_rows(wt, n, n_rows, rng);
        for (bool extreme : {false, true}) {
          // Activation from the quantizer (what inference does) ...
          const auto x = test::gaussian(n, rng, extreme ? 1e3f : 1.0f);
          std::vector<uint8_t> a(row_size(at, n));
          k.quantize_for(at)(x.data(), a.data(), n);
          check_rows(k, wt, w, n_rows, a, n, extreme ? "quantized, extreme" : "quantized");
          // ... and random activation blocks (float types: wide F32).
          std::vector<uint8_t> r;
          if (at == DType::F32) {
            const auto f = test::gaussian(n, rng, 1e-3f);
            r.resize(f.size() * 4);
            std::memcpy(r.data(), f.data(), r.size());
          } else {
            r = test::random_row(at, n, rng, extreme, true);
          }
          check_rows(k, wt, w, n_rows, r, n, extreme ? "random, extreme" : "random");
        }
      }
    }
  }
}

// Rows longer than one pass of the kernels' prepared activation (16384 elements).
TEST(Gemv, DotRowsOverSeveralPasses) {
  std::mt19937 rng(42);
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& k = kernels_for(isa);
    for (DType wt : test::weight_types()) {
      const DType at = type_info(wt).vec_dot_type;
      const int64_t n = 16384 + 3 * 256 + (type_info(wt).block_size == 32 ? 32 : 0);
      const auto w = random_rows(wt, n, 3, rng);
      const auto x = test::gaussian(n, rng);
      std::vector<uint8_t> a(row_size(at, n));
      k.quantize_for(at)(x.data(), a.data(), n);
      check_rows(k, wt, w, 3, a, n, "several passes");
    }
  }
}

// Weights from the real quantizers (their codes cluster differently from random bytes).
TEST(Gemv, DotRowsMatchReferenceOnQuantizedWeights) {
  std::mt19937 rng(43);
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& k = kernels_for(isa);
    for (DType wt : test::weight_types()) {
      const DType at = type_info(wt).vec_dot_type;
      const int64_t n = 4096, n_rows = 3;
      std::vector<uint8_t> w;
      for (int64_t r = 0; r < n_rows; ++r) {
        const auto wx = test::gaussian(n, rng);
        const auto q = test::quantize(wt, wx.data(), n);
        w.insert(w.end(), q.begin(), q.end());
      }
      const auto x = test::gaussian(n, rng);
      std::vector<uint8_t> a(row_size(at, n));
      k.quantize_for(at)(x.data(), a.data(), n);
      check_rows(k, wt, w, n_rows, a, n, "quantized weights");
    }
  }
}

// Any sub-range of rows, starting anywhere, gives the full call's values bit for bit.
TEST(Gemv, DotRowsDoNotDependOnTheRange) {
  std::mt19937 rng(44);
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& k = kernels_for(isa);
    for (DType wt : test::weight_types()) {
      const DType at = type_info(wt).vec_dot_type;
      const int64_t n = type_info(wt).block_size == 1 ? 100 : 9 * type_info(wt).block_size;
      const int64_t n_rows = 21;
      const size_t rs = row_size(wt, n);
      const auto w = random_rows(wt, n, n_rows, rng);
      const auto x = test::gaussian(n, rng);
      std::vector<uint8_t> a(row_size(at, n));
      k.quantize_for(at)(x.data(), a.data(), n);
      std::vector<float> all(static_cast<size_t>(n_rows));
      k.dot_rows_for(wt)(w.data(), rs, n_rows, a.data(), n, all.data());
      for (int64_t r0 : {0, 1, 3, 7, 8, 13}) {
        for (int64_t cnt = 1; r0 + cnt <= n_rows; cnt += 3) {
          std::vector<float> part(static_cast<size_t>(cnt));
          k.dot_rows_for(wt)(w.data() + rs * size_t(r0), rs, cnt, a.data(), n, part.data());
          ASSERT_EQ(0, std::memcmp(part.data(), all.data() + r0, size_t(cnt) * 4))
              << isa_name(isa) << " " << type_info(wt).name << " rows " << r0 << "+" << cnt;
        }
      }
    }
  }
}

// A RowSource handing out scripted chunks (any sizes, any order).
class ScriptedRows final : public RowSource {
 public:
  explicit ScriptedRows(std::vector<std::pair<int64_t, int64_t>> chunks)
      : chunks_(std::move(chunks)) {}
  bool next(int64_t& r0, int64_t& r1) override {
    if (i_ == chunks_.size()) return false;
    std::tie(r0, r1) = chunks_[i_++];
    return true;
  }

 private:
  std::vector<std::pair<int64_t, int64_t>> chunks_;
  size_t i_ = 0;
};

// The pulling entries give dot_rows' bits for every row of every chunk, whatever the chunks'
// sizes and order, also for rows long enough to take several passes, and touch no other row.
TEST(Gemv, DotRowsDynEqualsDotRows) {
  std::mt19937 rng(47);
  int checked = 0;
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& k = kernels_for(isa);
    for (DType wt : test::weight_types()) {
      const DotRowsDynFn dyn = k.dot_rows_dyn[static_cast<uint32_t>(wt)];
      if (dyn == nullptr) continue;
      const DType at = type_info(wt).vec_dot_type;
      for (int64_t n : {int64_t{9 * 32}, int64_t{33 * 32}, int64_t{16384 + 96}}) {
        const int64_t n_rows = 37;
        const size_t rs = row_size(wt, n);
        const auto w = random_rows(wt, n, n_rows, rng);
        const auto x = test::gaussian(n, rng);
        std::vector<uint8_t> a(row_size(at, n));
        k.quantize_for(at)(x.data(), a.data(), n);
        std::vector<float> want(static_cast<size_t>(n_rows));
        k.dot_rows_for(wt)(w.data(), rs, n_rows, a.data(), n, want.data());
        // Random chunk sizes 1..8 over rows [2, n_rows), handed out in shuffled order.
        std::vector<std::pair<int64_t, int64_t>> chunks;
        for (int64_t r = 2; r < n_rows;) {
          const int64_t e = std::min<int64_t>(n_rows, r + 1 + int64_t(rng() % 8));
          chunks.emplace_back(r, e);
          r = e;
        }
        std::shuffle(chunks.begin(), chunks.end(), rng);
        ScriptedRows src(chunks);
        std::vector<float> got(static_cast<size_t>(n_rows), -7.0f);
        dyn(w.data(), rs, src, a.data(), n, got.data());
        EXPECT_EQ(got[0], -7.0f);
        EXPECT_EQ(got[1], -7.0f);
        ASSERT_EQ(0, std::memcmp(want.data() + 2, got.data() + 2, size_t(n_rows - 2) * 4))
            << isa_name(isa) << " " << type_info(wt).name << " n=" << n;
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no kernel table on this CPU has pulling row dots";
}

// The multi-token entries give each token exactly the single-token entry's bits, also for rows
// long enough to take several passes, for every count of tokens up to the maximum.
TEST(Gemv, DotRowsMultiEqualsOneTokenAtATime) {
  std::mt19937 rng(46);
  int checked = 0;
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& k = kernels_for(isa);
    for (DType wt : test::weight_types()) {
      const DotRowsMultiFn multi = k.dot_rows_multi[static_cast<uint32_t>(wt)];
      if (multi == nullptr) continue;
      const DType at = type_info(wt).vec_dot_type;
      for (int64_t n : {int64_t{9 * 32}, int64_t{16384 + 96}}) {
        const int64_t n_rows = 11;
        const size_t rs = row_size(wt, n), as = row_size(at, n);
        const auto w = random_rows(wt, n, n_rows, rng);
        std::vector<uint8_t> a(as * size_t(kDotRowsMultiMax));
        for (int64_t t = 0; t < kDotRowsMultiMax; ++t) {
          const auto x = test::gaussian(n, rng);
          k.quantize_for(at)(x.data(), a.data() + as * size_t(t), n);
        }
        for (int64_t n_tok = 1; n_tok <= kDotRowsMultiMax; ++n_tok) {
          const int64_t ldo = n_rows + 2;
          std::vector<float> got(size_t(n_tok * ldo), -7.0f);
          multi(w.data(), rs, n_rows, a.data(), as, n_tok, n, got.data(), ldo);
          for (int64_t t = 0; t < n_tok; ++t) {
            std::vector<float> want(static_cast<size_t>(n_rows));
            k.dot_rows_for(wt)(w.data(), rs, n_rows, a.data() + as * size_t(t), n, want.data());
            ASSERT_EQ(0, std::memcmp(want.data(), got.data() + t * ldo, want.size() * 4))
                << isa_name(isa) << " " << type_info(wt).name << " n=" << n << " token " << t
                << " of " << n_tok;
            ASSERT_EQ(got[size_t(t * ldo + n_rows)], -7.0f) << "wrote past the rows";
          }
          ++checked;
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no kernel table on this CPU has multi-token row dots";
}

// matmul() with every row on the decode path with 1, 2 and 3 threads equals
// gemv_rows over all rows on one thread, bit for bit, and each element is within the dot bound of
// the reference dot of the quantized activation.
TEST(Gemv, MatmulThreadsAreBitIdentical) {
  std::mt19937 rng(45);
  const DType types[] = {DType::F16,  DType::BF16, DType::F32,  DType::Q4_0, DType::Q4_1,
                         DType::Q5_0, DType::Q8_0, DType::Q2_K, DType::Q4_K, DType::Q6_K};
  for (DType t : types) {
    const DType at = type_info(t).vec_dot_type;
    const int64_t k = 512, n_out = 8 * 5 + 3;
    const size_t rs = row_size(t, k);
    std::vector<uint8_t> w;
    for (int64_t r = 0; r < n_out; ++r) {
      const auto wx = test::gaussian(k, rng);
      const auto q = test::quantize(t, wx.data(), k);
      w.insert(w.end(), q.begin(), q.end());
    }
    const TensorView view = make_view(t, k, n_out, w.data());
    for (int64_t n_tok : {1, 2, 7}) {
      const auto x = test::gaussian(k * n_tok, rng);
      for (Isa isa : test::runnable_isas()) {
        const KernelSet& ks = kernels_for(isa);
        std::vector<uint8_t> act(row_size(at, k) * size_t(n_tok));
        const size_t act_stride = at == DType::F32 ? size_t(k) * 4 : row_size(at, k);
        if (at == DType::F32) {
          std::memcpy(act.data(), x.data(), act.size());
        } else {
          for (int64_t tk = 0; tk < n_tok; ++tk)
            ks.quantize_for(at)(x.data() + tk * k, act.data() + act_stride * size_t(tk), k);
        }
        std::vector<float> want(size_t(n_tok * n_out));
        gemv_rows(ks, view, 0, n_out, act.data(), act_stride, n_tok, want.data(), n_out);
        for (int64_t tk = 0; tk < n_tok; ++tk) {
          const uint8_t* a = act.data() + act_stride * size_t(tk);
          const auto ad = test::dequantize(at, a, k);
          for (int64_t r = 0; r < n_out; ++r) {
            const auto row = row_of(w, rs, r);
            const double m = test::dot_magnitude(t, row, ad);
            const double tol = 2.0 * double(test::dot_terms(t, k) + 8) * test::kFloatEps * m;
            const double ref = quant::vec_dot_ref(t, row.data(), a, k);
            ASSERT_LE(std::fabs(double(want[size_t(tk * n_out + r)]) - ref), tol)
                << isa_name(isa) << " " << type_info(t).name << " token " << tk << " row " << r;
          }
        }
        for (int threads : {1, 2, 3}) {
          ThreadPool pool(threads);
          MatmulScratch ms(k, n_tok, threads);
          std::vector<float> got(want.size(), -1.0f);
          matmul(ks, pool, ms, view, x.data(), n_tok, got.data(), false, n_tok);
          ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * 4))
              << isa_name(isa) << " " << type_info(t).name << " n_tok=" << n_tok
              << " threads=" << threads;
        }
      }
    }
  }
}

}  // namespace
}  // namespace minima
