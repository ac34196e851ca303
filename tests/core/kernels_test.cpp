// Every entry of every kernel table this CPU can run, against the scalar reference.
//
// Quantize and dequantize entries must be bit-identical (they perform the same float operations;
// the products that a compiler could fuse are exact, see kquant_ref.cpp). Dots may differ by
// summation order only: both the reference and a SIMD kernel add the same exact integer block
// sums, scaled by the same float factors, each term carrying at most a few roundings before a sum
// over at most (terms) additions in some order, so each is within γ_{terms+8}·M of the exact value
// (M: test::dot_magnitude) and they are within 2·(terms + 8)·u·M of each other.
//
// Data: lengths of 1..8 blocks (float types: 1..300 elements and 4096), random block bytes with
// moderate and extreme (whole half range incl. subnormal) scales, activations both random and
// produced by the quantizers; rounding ties for the quantizers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/kernels/kernels.hpp"
#include "quant_test_util.hpp"

namespace minima {
namespace {

std::vector<int64_t> lengths(DType t) {
  const int64_t bs = type_info(t).block_size;
  std::vector<int64_t> v;
  if (bs == 1) {
    for (int64_t n = 1; n <= 40; ++n) v.push_back(n);
    for (int64_t n : {63, 64, 65, 127, 255, 256, 300, 4096}) v.push_back(n);
  } else {
    for (int64_t b = 1; b <= 8; ++b) v.push_back(b * bs);
  }
  return v;
}

std::vector<uint8_t> as_bytes(const std::vector<float>& x) {
  std::vector<uint8_t> b(x.size() * 4);
  std::memcpy(b.data(), x.data(), b.size());
  return b;
}

TEST(Kernels, TablesAreComplete) {
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& k = kernels_for(isa);
    EXPECT_EQ(k.isa, isa);
    for (uint32_t id = 0; id < kDTypeCount; ++id) {
      const auto ti = type_info(id);
      if (!ti) continue;
      EXPECT_NE(k.dequantize[id], nullptr) << ti->name;
      EXPECT_NE(k.quantize[id], nullptr) << ti->name;
      EXPECT_EQ(k.dot[id] != nullptr, ti->weight_supported) << ti->name;
    }
  }
}

TEST(Kernels, DequantizeBitIdentical) {
  std::mt19937 rng(21);
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& k = kernels_for(isa);
    for (uint32_t id = 0; id < kDTypeCount; ++id) {
      if (!type_info(id)) continue;
      const auto t = static_cast<DType>(id);
      for (int64_t n : lengths(t)) {
        for (bool extreme : {false, true}) {
          const auto row = test::random_row(t, n, rng, extreme);
          std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n), -1.0f);
          quant::dequantize_row_ref(t, row.data(), want.data(), n);
          k.dequantize_for(t)(row.data(), got.data(), n);
          ASSERT_EQ(0, std::memcmp(want.data(), got.data(), size_t(n) * 4))
              << isa_name(isa) << " " << type_name(id) << " n=" << n;
        }
      }
    }
  }
}

TEST(Kernels, EveryHalfDequantizesLikeTheReference) {
  std::vector<uint16_t> all(65536);
  for (uint32_t h = 0; h < 65536; ++h) all[h] = uint16_t(h);
  for (Isa isa : test::runnable_isas()) {
    for (DType t : {DType::F16, DType::BF16}) {
      std::vector<float> want(65536), got(65536);
      quant::dequantize_row_ref(t, all.data(), want.data(), 65536);
      kernels_for(isa).dequantize_for(t)(all.data(), got.data(), 65536);
      ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * 4)) << isa_name(isa);
    }
  }
}

// Inputs for the quantizers: Gaussian, wide-range, constant, zero blocks, and exact rounding ties
// (x·(1/d) = k + 0.5 for Q8_0 / Q8_1, iscale·x = k + 0.5 for Q8_K).
std::vector<std::vector<float>> quantizer_inputs(int64_t n, std::mt19937& rng) {
  std::vector<std::vector<float>> v;
  v.push_back(test::gaussian(n, rng));
  auto wide = test::gaussian(n, rng);
  std::uniform_real_distribution<float> e(-40.0f, 40.0f);
  for (auto& x : wide) x *= std::exp2(e(rng));
  v.push_back(wide);
  v.push_back(std::vector<float>(size_t(n), 0.0f));
  v.push_back(std::vector<float>(size_t(n), -0.75f));
  std::vector<float> ties(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ties[i] = float(i % 254) - 126.5f;
  for (int64_t b = 0; b < n; b += 32) ties[b] = 127.0f;  // amax 127: d = 1, iscale = −1
  for (int64_t b = 0; b < n; b += 256) ties[b] = -127.0f;
  v.push_back(ties);
  auto mixed = test::gaussian(n, rng);
  for (int64_t i = 0; i < n; i += 64) std::fill(mixed.begin() + i, mixed.begin() + i + 32, 0.0f);
  v.push_back(mixed);
  return v;
}

TEST(Kernels, QuantizeBitIdentical) {
  std::mt19937 rng(22);
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& k = kernels_for(isa);
    for (uint32_t id = 0; id < kDTypeCount; ++id) {
      if (!type_info(id)) continue;
      const auto t = static_cast<DType>(id);
      for (int64_t n : lengths(t)) {
        for (const auto& x : quantizer_inputs(((n + 255) / 256) * 256, rng)) {
          const auto want = test::quantize(t, x.data(), n);
          std::vector<uint8_t> got(want.size(), 0xCD);
          k.quantize_for(t)(x.data(), got.data(), n);
          ASSERT_EQ(want, got) << isa_name(isa) << " " << type_name(id) << " n=" << n;
        }
      }
    }
  }
}

void check_dot(const KernelSet& k, DType wt, const std::vector<uint8_t>& w,
               const std::vector<uint8_t>& a, int64_t n, const char* what) {
  const DType at = type_info(wt).vec_dot_type;
  const auto ad = test::dequantize(at, a.data(), n);
  const double m = test::dot_magnitude(wt, w, ad);
  const double tol = 2.0 * double(test::dot_terms(wt, n) + 8) * test::kFloatEps * m;
  const double want = quant::vec_dot_ref(wt, w.data(), a.data(), n);
  const double got = k.dot_for(wt)(w.data(), a.data(), n);
  ASSERT_LE(std::fabs(got - want), tol) << isa_name(k.isa) << " " << type_name(uint32_t(wt))
                                        << " n=" << n << " " << what << " ref=" << want;
}

TEST(Kernels, DotsMatchReference) {
  std::mt19937 rng(23);
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& k = kernels_for(isa);
    for (DType wt : test::weight_types()) {
      const DType at = type_info(wt).vec_dot_type;
      for (int64_t n : lengths(wt)) {
        for (int rep = 0; rep < 4; ++rep) {
          const bool extreme = rep % 2 == 1;
          const auto w = test::random_row(wt, n, rng, extreme);
          // Activation straight from the quantizer (what inference does)...
          const auto x = test::gaussian(n, rng, extreme ? 1e3f : 1.0f);
          std::vector<uint8_t> a(row_size(at, n));
          k.quantize_for(at)(x.data(), a.data(), n);
          check_dot(k, wt, w, a, n, extreme ? "quantized, extreme" : "quantized");
          // ... and random activation blocks with extreme scales (float types: wide F32).
          const auto r = at == DType::F32 ? as_bytes(test::gaussian(n, rng, 1e-3f))
                                          : test::random_row(at, n, rng, extreme, true);
          check_dot(k, wt, w, r, n, extreme ? "random, extreme" : "random");
        }
      }
    }
  }
}

// Weights from the real quantizers too (their codes cluster differently from random bytes).
TEST(Kernels, DotsMatchReferenceOnQuantizedWeights) {
  std::mt19937 rng(24);
  for (Isa isa : test::runnable_isas()) {
    const KernelSet& k = kernels_for(isa);
    for (DType wt : test::weight_types()) {
      const DType at = type_info(wt).vec_dot_type;
      const int64_t n = 4096;
      const auto wx = test::gaussian(n, rng);
      const auto w = test::quantize(wt, wx.data(), n);
      const auto x = test::gaussian(n, rng);
      std::vector<uint8_t> a(row_size(at, n));
      k.quantize_for(at)(x.data(), a.data(), n);
      check_dot(k, wt, w, a, n, "quantized weights");
    }
  }
}

}  // namespace
}  // namespace minima
