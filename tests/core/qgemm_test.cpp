// The integer prefill GEMM (core/qgemm.hpp): every table's entries against the scalar references,
// bit for bit (the contract fixes every rounding, so there is no tolerance to choose), and the
// whole path against a double-precision product of the dequantized weights and the dequantized
// Q8_0 activations.
//
// Error bound of the last check: each block's integer sum is exact, the scale product
// fl(d_w·d_x) has relative error <= u, and the nb-step fused chain adds at most γ_nb relative to
// the sum of magnitudes (Higham §3.1), so |y − Σ_b d_w·d_x·isum_b| <= (γ_nb + u)·Σ_b
// |d_w·d_x·isum_b| with u = 2^-24, plus the double reference's own k·2^-53 and the subnormal
// absolute terms.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp16.hpp"
#include "core/kernels/kernels.hpp"
#include "core/qgemm.hpp"
#include "core/quant/quant.hpp"
#include "quant_test_util.hpp"

namespace minima {
namespace {

const DType kTypes[] = {DType::Q4_0, DType::Q8_0};

QgemmPackFn pack_ref(DType t) {
  return t == DType::Q4_0 ? qgemm_pack_q4_0_ref : qgemm_pack_q8_0_ref;
}

// The tables under test: those this CPU runs that have the integer path.
std::vector<Isa> qgemm_isas(DType t) {
  std::vector<Isa> v;
  for (Isa isa : test::runnable_isas())
    if (has_qgemm(kernels_for(isa), t)) v.push_back(isa);
  return v;
}

std::vector<uint8_t> random_rows(DType t, int64_t n_rows, int64_t k, std::mt19937& rng,
                                 bool extreme) {
  const size_t rs = row_size(t, k);
  std::vector<uint8_t> w(rs * size_t(n_rows));
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto row = test::random_row(t, k, rng, extreme && r % 3 == 0);
    std::memcpy(w.data() + rs * size_t(r), row.data(), rs);
  }
  return w;
}

// 64-byte aligned storage (the panels and activations are read with aligned loads).
struct Aligned {
  std::vector<uint8_t> bytes;
  uint8_t* p;
  explicit Aligned(size_t n) : bytes(n + 64) {
    p = bytes.data() + (64 - reinterpret_cast<uintptr_t>(bytes.data()) % 64) % 64;
  }
};

TEST(Qgemm, PackMatchesReference) {
  std::mt19937 rng(71);
  for (DType t : kTypes) {
    for (Isa isa : qgemm_isas(t)) {
      const QgemmPackFn fast = kernels_for(isa).qgemm_pack[static_cast<uint32_t>(t)];
      for (int64_t kc : {32, 96, 2048}) {
        const int64_t k = kc + 64;  // rows longer than the packed range, packed from block 1
        const auto w = random_rows(t, 16, k, rng, true);
        for (int64_t n_rows : {1, 7, 15, 16}) {
          const size_t bytes = size_t(kc / 32 * kQgemmBlockBytes);
          Aligned want(bytes), got(bytes);
          std::memset(got.p, 0xAB, bytes);
          const uint8_t* first = w.data() + type_info(t).type_size;
          pack_ref(t)(first, row_size(t, k), n_rows, kc, want.p);
          fast(first, row_size(t, k), n_rows, kc, got.p);
          ASSERT_EQ(0, std::memcmp(want.p, got.p, bytes))
              << isa_name(isa) << " " << type_info(t).name << " kc=" << kc << " rows=" << n_rows;
        }
      }
    }
  }
}

// Random activations quantized through the path's own quantizer, for n_tok rows of k.
struct Acts {
  Aligned buf;
  QActs a;
  Acts(const KernelSet& ks, DType t, const std::vector<float>& x, int64_t n_tok, int64_t k)
      : buf(qgemm_act_bytes(n_tok, k)) {
    std::vector<uint8_t> tmp(row_size(DType::Q8_0, k));
    // Two calls on halves: disjoint token ranges must compose.
    qgemm_quantize(ks, t, x.data(), n_tok, k, 0, n_tok / 2, buf.p, tmp.data());
    qgemm_quantize(ks, t, x.data(), n_tok, k, n_tok / 2, n_tok, buf.p, tmp.data());
    a = qgemm_acts(buf.p, n_tok, k);
  }
};

TEST(Qgemm, QuantizedActivationsAreTheQ8_0Reference) {
  std::mt19937 rng(72);
  const int64_t k = 96, n_tok = 5;
  const auto x = test::gaussian(n_tok * k, rng, 3.0f);
  for (DType t : kTypes) {
    for (Isa isa : test::runnable_isas()) {
      const Acts acts(kernels_for(isa), t, x, n_tok, k);
      for (int64_t r = 0; r < n_tok; ++r) {
        const auto ref = test::quantize(DType::Q8_0, x.data() + r * k, k);
        const auto* blocks = reinterpret_cast<const BlockQ8_0*>(ref.data());
        for (int64_t b = 0; b < k / 32; ++b) {
          int32_t sum = 0;
          for (int j = 0; j < 32; ++j) {
            ASSERT_EQ(blocks[b].qs[j], acts.a.q[r * k + b * 32 + j]);
            sum += blocks[b].qs[j];
          }
          ASSERT_EQ(fp16_to_fp32(blocks[b].d), acts.a.d[r * (k / 32) + b]);
          ASSERT_EQ(-qgemm_bias(t) * sum, acts.a.c[r * (k / 32) + b]);
        }
      }
    }
  }
}

TEST(Qgemm, TileMatchesReferenceBitForBit) {
  std::mt19937 rng(73);
  for (DType t : kTypes) {
    for (Isa isa : qgemm_isas(t)) {
      const KernelSet& ks = kernels_for(isa);
      for (int64_t kc : {32, 160, 2048}) {
        const int64_t n_panels = 3, k = kc;
        const auto w = random_rows(t, 16 * n_panels, k, rng, true);
        const size_t pbytes = size_t(kc / 32 * kQgemmBlockBytes);
        Aligned panels(pbytes * n_panels);
        for (int64_t p = 0; p < n_panels; ++p)
          pack_ref(t)(w.data() + size_t(16 * p) * row_size(t, k), row_size(t, k), 16, kc,
                      panels.p + size_t(p) * pbytes);
        for (int64_t n_tok : {1, 2, 5, 6, 7, 12, 13}) {
          const auto x = test::gaussian(n_tok * k, rng);
          const Acts acts(ks, t, x, n_tok, k);
          for (int64_t np : {int64_t{1}, int64_t{2}, n_panels}) {
            for (bool accumulate : {false, true}) {
              const int64_t ldy = n_panels * 16 + 3;
              const auto y0 = test::gaussian(n_tok * ldy, rng);
              std::vector<float> want = y0, got = y0;
              qgemm_tile_ref(panels.p, np, kc, acts.a, n_tok, want.data(), ldy, accumulate);
              ks.qgemm_tile(panels.p, np, kc, acts.a, n_tok, got.data(), ldy, accumulate);
              ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * 4))
                  << isa_name(isa) << " " << type_info(t).name << " kc=" << kc << " n_tok=" << n_tok
                  << " panels=" << np << " accumulate=" << accumulate;
            }
          }
        }
      }
    }
  }
}

// The scalar-reference table that every CPU has, wired to the integer path, so the driver is
// tested on machines without AVX-512 too.
KernelSet reference_qgemm_table() {
  KernelSet ks = kernels_for(Isa::Scalar);
  ks.qgemm_tile = qgemm_tile_ref;
  ks.qgemm_pack[static_cast<uint32_t>(DType::Q4_0)] = qgemm_pack_q4_0_ref;
  ks.qgemm_pack[static_cast<uint32_t>(DType::Q8_0)] = qgemm_pack_q8_0_ref;
  return ks;
}

TEST(Qgemm, RowsMatchDoubleProductOfTheQuantizedOperands) {
  std::mt19937 rng(74);
  const KernelSet ref = reference_qgemm_table();
  struct Shape {
    int64_t n_out, k, n_tok, r0, r1;
  };
  // Partial last panel, a range not starting at 0, several strips and k-blocks (k > 2048 with
  // a remainder), odd token counts.
  const Shape shapes[] = {{40, 64, 9, 0, 40},
                          {40, 96, 13, 16, 37},
                          {150, 2080, 7, 0, 150},
                          {70, 4096 + 32, 3, 5, 70},
                          {33, 32, 1, 0, 33}};
  for (DType t : kTypes) {
    std::vector<const KernelSet*> sets = {&ref};
    for (Isa isa : qgemm_isas(t)) sets.push_back(&kernels_for(isa));
    for (const Shape& s : shapes) {
      const auto w = random_rows(t, s.n_out, s.k, rng, true);
      const TensorView view = make_view(t, s.k, s.n_out, w.data());
      const auto x = test::gaussian(s.n_tok * s.k, rng);
      std::vector<float> first;
      for (const KernelSet* ks : sets) {
        const Acts acts(*ks, t, x, s.n_tok, s.k);
        Aligned scratch(qgemm_scratch_bytes());
        const int64_t ldy = s.n_out + 2;
        std::vector<float> y(size_t(s.n_tok * ldy), std::nanf(""));
        qgemm_rows(*ks, view, s.r0, s.r1, acts.a, s.n_tok, y.data(), ldy, scratch.p);
        const int64_t nb = s.k / 32;
        std::vector<float> wd(size_t(s.k));
        for (int64_t r = 0; r < ldy; ++r) {
          const bool mine = r >= s.r0 && r < s.r1;
          if (mine) quant::dequantize_row_ref(t, view.row(r), wd.data(), s.k);
          for (int64_t tk = 0; tk < s.n_tok; ++tk) {
            const float got = y[size_t(tk * ldy + r)];
            if (!mine) {
              ASSERT_TRUE(std::isnan(got)) << "wrote outside its rows: r=" << r;
              continue;
            }
            double want = 0, mag = 0;
            for (int64_t b = 0; b < nb; ++b) {
              double blk = 0;
              for (int j = 0; j < 32; ++j) {
                const int64_t i = b * 32 + j;
                blk += double(wd[size_t(i)]) * double(acts.a.q[tk * s.k + i]);
              }
              blk *= double(acts.a.d[tk * nb + b]);
              want += blk;
              mag += std::fabs(blk);
            }
            const double u = test::kFloatEps, n = double(nb);
            const double tol =
                (n * u / (1 - n * u) + u + double(s.k) * 0x1p-53) * mag + 4.0 * n * 0x1p-150;
            ASSERT_LE(std::fabs(double(got) - want), tol)
                << isa_name(ks->isa) << " " << type_info(t).name << " k=" << s.k << " r=" << r
                << " t=" << tk;
          }
        }
        // Every table gives the reference table's bits.
        if (first.empty()) {
          first = y;
        } else {
          ASSERT_EQ(0, std::memcmp(first.data(), y.data(), y.size() * 4))
              << isa_name(ks->isa) << " " << type_info(t).name << " k=" << s.k;
        }
      }
    }
  }
}

}  // namespace
}  // namespace minima
