// The integer prefill GEMM (core/qgemm.hpp): the packed panels against the reference dequantizer,
// every table's entries against the scalar references bit for bit (the contract fixes every
// rounding, so there is no tolerance to choose), and the whole path against a double-precision
// product of the dequantized weights and the dequantized Q8_0 activations.
//
// Error bound of the last check: each term's integer sum is exact, the scale product fl(d_w·d_x)
// has relative error <= u, and the chain of 2·nb fused steps adds at most γ_{2nb} relative to the
// sum of the terms' magnitudes (Higham §3.1), so |y − exact| <= (γ_{2nb} + u)·M with
// M = Σ_b Σ_terms |term|, u = 2^-24, plus the double reference's own k·2^-53·M and the subnormal
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

const DType kTypes[] = {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

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

int64_t min_k(DType t) {
  return std::max<int64_t>(type_info(t).block_size, 32);
}

void ref_pack(DType t, const void* rows, size_t stride, int64_t n_rows, int64_t kc, uint8_t* out) {
  qgemm_pack_ref(t, rows, stride, n_rows, kc, out);
}

// What the contract says a packed element means, as float: must equal the reference dequantizer.
TEST(Qgemm, PanelsHoldTheDequantizedWeights) {
  std::mt19937 rng(70);
  for (DType t : kTypes) {
    const QgemmKind kind = qgemm_kind(t);
    const int64_t k = 2 * min_k(t) + (min_k(t) == 32 ? 32 : 0), n_rows = 13;
    const auto w = random_rows(t, n_rows, k, rng, true);
    const int64_t bytes = qgemm_block_bytes(kind);
    Aligned panel(size_t(k / 32 * bytes));
    ref_pack(t, w.data(), row_size(t, k), n_rows, k, panel.p);
    for (int64_t i = 0; i < 16; ++i) {
      std::vector<float> want(size_t(k), 0.0f);
      if (i < n_rows)
        quant::dequantize_row_ref(t, w.data() + size_t(i) * row_size(t, k), want.data(), k);
      for (int64_t e = 0; e < k; ++e) {
        const uint8_t* blk = panel.p + (e / 32) * bytes;
        const int j = int(e % 32);
        const int u = blk[(j / 4) * 64 + 4 * i + j % 4];
        float f0, f1;
        std::memcpy(&f0, blk + kQgemmCodeBytes + 4 * i, 4);
        std::memcpy(&f1, blk + kQgemmCodeBytes + 64 + 4 * i, 4);
        const int q = u - qgemm_bias(t);
        float got = 0;
        switch (kind) {
          case QgemmKind::Plain:
            got = f0 * float(q);
            break;
          case QgemmKind::Min:
            got = f0 * float(q) + f1;
            break;
          case QgemmKind::Halves:
            got = (j < 16 ? f0 : f1) * float(q);
            break;
        }
        if (i >= n_rows) {
          ASSERT_EQ(u, 0) << "padding rows hold zero codes";
          ASSERT_EQ(f0, 0.0f);
        } else {
          ASSERT_EQ(got, want[size_t(e)])
              << type_info(t).name << " row " << i << " element " << e << " code " << u;
        }
      }
    }
  }
}

TEST(Qgemm, PackMatchesReference) {
  std::mt19937 rng(71);
  for (DType t : kTypes) {
    for (Isa isa : qgemm_isas(t)) {
      const QgemmPackFn fast = kernels_for(isa).qgemm_pack[static_cast<uint32_t>(t)];
      const int64_t bs = min_k(t);
      for (int64_t kc : {bs, 3 * bs, int64_t{2048}}) {
        const int64_t k = kc + bs;  // rows longer than the packed range, packed from block 1
        const auto w = random_rows(t, 16, k, rng, true);
        for (int64_t n_rows : {1, 7, 15, 16}) {
          const size_t bytes = size_t(kc / 32 * qgemm_block_bytes(qgemm_kind(t)));
          Aligned want(bytes), got(bytes);
          std::memset(got.p, 0xAB, bytes);
          const uint8_t* first = w.data() + type_info(t).type_size;
          ref_pack(t, first, row_size(t, k), n_rows, kc, want.p);
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
          int32_t half[2] = {0, 0};
          for (int j = 0; j < 32; ++j) {
            ASSERT_EQ(blocks[b].qs[j], acts.a.q[r * k + b * 32 + j]);
            half[j / 16] += blocks[b].qs[j];
          }
          const QActs at = acts.a.at(r, b);
          ASSERT_EQ(fp16_to_fp32(blocks[b].d), at.d[0]);
          ASSERT_EQ(-qgemm_bias(t) * (half[0] + half[1]), at.c32[0]);
          ASSERT_EQ(-qgemm_bias(t) * half[0], at.c16[0]);
          ASSERT_EQ(-qgemm_bias(t) * half[1], at.c16[1]);
          ASSERT_EQ(float(half[0] + half[1]), at.s[0]);
        }
      }
    }
  }
}

TEST(Qgemm, TileMatchesReferenceBitForBit) {
  std::mt19937 rng(73);
  for (DType t : kTypes) {
    const QgemmKind kind = qgemm_kind(t);
    for (Isa isa : qgemm_isas(t)) {
      const KernelSet& ks = kernels_for(isa);
      for (int64_t kc : {min_k(t), int64_t{512}, int64_t{2048}}) {
        const int64_t n_panels = 3, k = kc;
        const auto w = random_rows(t, 16 * n_panels, k, rng, true);
        const size_t pbytes = size_t(kc / 32 * qgemm_block_bytes(kind));
        Aligned panels(pbytes * n_panels);
        for (int64_t p = 0; p < n_panels; ++p)
          ref_pack(t, w.data() + size_t(16 * p) * row_size(t, k), row_size(t, k), 16, kc,
                   panels.p + size_t(p) * pbytes);
        for (int64_t n_tok : {1, 2, 5, 6, 7, 12, 13}) {
          const auto x = test::gaussian(n_tok * k, rng);
          const Acts acts(ks, t, x, n_tok, k);
          for (int64_t np : {int64_t{1}, int64_t{2}, n_panels}) {
            for (bool accumulate : {false, true}) {
              const int64_t ldy = n_panels * 16 + 3;
              const auto y0 = test::gaussian(n_tok * ldy, rng);
              std::vector<float> want = y0, got = y0;
              qgemm_tile_ref(panels.p, np, kc, kind, acts.a, n_tok, want.data(), ldy, accumulate);
              ks.qgemm_tile(panels.p, np, kc, kind, acts.a, n_tok, got.data(), ldy, accumulate);
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
template <DType T>
void ref_pack_entry(const void* rows, size_t stride, int64_t n_rows, int64_t kc, uint8_t* out) {
  ref_pack(T, rows, stride, n_rows, kc, out);
}

KernelSet reference_qgemm_table() {
  KernelSet ks = kernels_for(Isa::Scalar);
  ks.qgemm_tile = qgemm_tile_ref;
  ks.qgemm_pack[static_cast<uint32_t>(DType::Q4_0)] = ref_pack_entry<DType::Q4_0>;
  ks.qgemm_pack[static_cast<uint32_t>(DType::Q8_0)] = ref_pack_entry<DType::Q8_0>;
  ks.qgemm_pack[static_cast<uint32_t>(DType::Q4_K)] = ref_pack_entry<DType::Q4_K>;
  ks.qgemm_pack[static_cast<uint32_t>(DType::Q5_K)] = ref_pack_entry<DType::Q5_K>;
  ks.qgemm_pack[static_cast<uint32_t>(DType::Q6_K)] = ref_pack_entry<DType::Q6_K>;
  return ks;
}

TEST(Qgemm, RowsMatchDoubleProductOfTheQuantizedOperands) {
  std::mt19937 rng(74);
  const KernelSet ref = reference_qgemm_table();
  struct Shape {
    int64_t n_out, k, n_tok, r0, r1;
  };
  // Partial last panel, a range not starting at 0, several strips and k-blocks (k > 2048 with
  // a remainder), odd token counts. k multiples of 256 so every type takes every shape.
  const Shape shapes[] = {{40, 256, 9, 0, 40},
                          {40, 512, 13, 16, 37},
                          {150, 2304, 7, 0, 150},
                          {70, 4096 + 256, 3, 5, 70},
                          {33, 256, 1, 0, 33}};
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
        // For Min the code and min terms are summed apart, so their magnitudes count apart:
        // per element |d_w·u| + |n_w| instead of |w| (read from the row packed alone).
        std::vector<float> wm(size_t(s.k));
        Aligned one(size_t(nb * qgemm_block_bytes(QgemmKind::Min)));
        for (int64_t r = 0; r < ldy; ++r) {
          const bool mine = r >= s.r0 && r < s.r1;
          if (mine) {
            quant::dequantize_row_ref(t, view.row(r), wd.data(), s.k);
            for (int64_t i = 0; i < s.k; ++i) wm[size_t(i)] = std::fabs(wd[size_t(i)]);
            if (qgemm_kind(t) == QgemmKind::Min) {
              ref_pack(t, view.row(r), view.row_bytes, 1, s.k, one.p);
              for (int64_t i = 0; i < s.k; ++i) {
                const uint8_t* blk = one.p + (i / 32) * qgemm_block_bytes(QgemmKind::Min);
                const int j = int(i % 32);
                float f0, f1;
                std::memcpy(&f0, blk + kQgemmCodeBytes, 4);
                std::memcpy(&f1, blk + kQgemmCodeBytes + 64, 4);
                wm[size_t(i)] = std::fabs(f0 * float(blk[(j / 4) * 64 + j % 4])) + std::fabs(f1);
              }
            }
          }
          for (int64_t tk = 0; tk < s.n_tok; ++tk) {
            const float got = y[size_t(tk * ldy + r)];
            if (!mine) {
              ASSERT_TRUE(std::isnan(got)) << "wrote outside its rows: r=" << r;
              continue;
            }
            double want = 0, mag = 0;
            for (int64_t b = 0; b < nb; ++b) {
              double blk = 0, m = 0;
              for (int j = 0; j < 32; ++j) {
                const int64_t i = b * 32 + j;
                const double prod = double(wd[size_t(i)]) * double(acts.a.q[tk * s.k + i]);
                blk += prod;
                m += double(wm[size_t(i)]) * std::fabs(double(acts.a.q[tk * s.k + i]));
              }
              const double dx = double(acts.a.d[tk * nb + b]);
              want += blk * dx;
              mag += m * std::fabs(dx);
            }
            const double u = test::kFloatEps, n = double(2 * nb);
            const double tol =
                (n * u / (1 - n * u) + u + double(s.k) * 0x1p-53) * mag + 8.0 * n * 0x1p-150;
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
