// Helpers for the quant and kernel tests: random but valid rows of every format, reference
// round trips, and the magnitude sums that the error bounds are expressed in.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "core/fp16.hpp"
#include "core/kernels/kernels.hpp"
#include "core/quant/quant.hpp"
#include "core/quant/types.hpp"

namespace minima::test {

inline constexpr double kFloatEps = 1.0 / (1 << 24);  // unit roundoff u of float

// The kernel sets this CPU can run (scalar always), to test each fast table against the reference.
inline std::vector<Isa> runnable_isas() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    if (cpu_supports(isa)) v.push_back(isa);
  return v;
}

// Weight types, in GGML id order.
inline const std::vector<DType>& weight_types() {
  static const std::vector<DType> v = {
      DType::F32,  DType::F16,  DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
      DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::BF16};
  return v;
}

inline std::vector<float> gaussian(int64_t n, std::mt19937& rng, float sigma = 1.0f) {
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

inline std::vector<uint8_t> quantize(DType t, const float* x, int64_t n) {
  std::vector<uint8_t> out(row_size(t, n));
  quant::quantize_row_ref(t, x, out.data(), n);
  return out;
}

inline std::vector<float> dequantize(DType t, const void* p, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  quant::dequantize_row_ref(t, p, out.data(), n);
  return out;
}

// A finite half: moderate magnitudes (2^-8 .. 2^2), or with `extreme` any finite exponent
// including subnormals. Random sign.
inline uint16_t random_half(std::mt19937& rng, bool extreme) {
  std::uniform_int_distribution<int> mant(0, 1023), sign(0, 1);
  std::uniform_int_distribution<int> exp(extreme ? 0 : 7, extreme ? 30 : 17);
  return uint16_t(sign(rng) << 15 | exp(rng) << 10 | mant(rng));
}

// Byte offsets of the half-precision scale fields inside one block, and the byte range holding
// the quant codes (zeroing it leaves only the "offset" part of each element: −min, or the
// lowest code's value).
struct BlockFields {
  std::vector<int> halves;
  int quants_begin = 0, quants_end = 0;
};

inline BlockFields block_fields(DType t) {
  switch (t) {
    case DType::Q4_0:
      return {{0}, 2, 18};
    case DType::Q4_1:
      return {{0, 2}, 4, 20};
    case DType::Q5_0:
      return {{0}, 2, 22};
    case DType::Q5_1:
      return {{0, 2}, 4, 24};
    case DType::Q8_0:
      return {{0}, 2, 34};
    case DType::Q8_1:
      return {{0, 2}, 4, 36};
    case DType::Q2_K:
      return {{80, 82}, 16, 80};
    case DType::Q3_K:
      return {{108}, 0, 96};
    case DType::Q4_K:
      return {{0, 2}, 16, 144};
    case DType::Q5_K:
      return {{0, 2}, 16, 176};
    case DType::Q6_K:
      return {{208}, 0, 192};
    default:
      return {};
  }
}

// Random valid row of t: random bytes with finite scales. Activation types (Q8_0 used as an
// activation, Q8_1, Q8_K) keep quants in [−127, 127] as every activation quantizer does; Q8_1's
// s and Q8_K's bsums are made consistent with the quants.
inline std::vector<uint8_t> random_row(DType t, int64_t n, std::mt19937& rng, bool extreme,
                                       bool as_activation = false) {
  const TypeInfo& ti = type_info(t);
  std::vector<uint8_t> row(row_size(t, n));
  std::uniform_int_distribution<int> byte(0, 255), q8(-127, 127);
  for (auto& b : row) b = uint8_t(byte(rng));
  const int64_t nb = n / ti.block_size;
  if (t == DType::F32) {
    std::uniform_real_distribution<float> e(extreme ? -60.0f : -4.0f, extreme ? 60.0f : 4.0f);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int64_t i = 0; i < n; ++i) {
      const float v = u(rng) * std::exp2(e(rng));
      std::memcpy(&row[4 * size_t(i)], &v, 4);
    }
    return row;
  }
  if (t == DType::F16 || t == DType::BF16) {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h = random_half(rng, extreme);
      if (t == DType::BF16) h = fp32_to_bf16(fp16_to_fp32(h) * (extreme ? 1e6f : 1.0f));
      std::memcpy(&row[2 * size_t(i)], &h, 2);
    }
    return row;
  }
  for (int64_t i = 0; i < nb; ++i) {
    uint8_t* blk = row.data() + size_t(i) * ti.type_size;
    if (t == DType::Q8_K) {
      BlockQ8_K b;
      std::uniform_real_distribution<float> e(extreme ? -30.0f : -8.0f, extreme ? 10.0f : 0.0f);
      b.d = std::exp2(e(rng)) * (byte(rng) & 1 ? 1.0f : -1.0f);
      for (auto& q : b.qs) q = int8_t(q8(rng));
      for (int s = 0; s < 16; ++s) {
        int sum = 0;
        for (int l = 0; l < 16; ++l) sum += b.qs[16 * s + l];
        b.bsums[s] = int16_t(sum);
      }
      std::memcpy(blk, &b, sizeof b);
      continue;
    }
    for (int off : block_fields(t).halves) {
      uint16_t h = random_half(rng, extreme);
      // Q8_1's s = d·Σq must stay finite in half: |d|·32·127 < 65504 (a limit of the format).
      while (t == DType::Q8_1 && std::fabs(fp16_to_fp32(h)) >= 16.0f) h = random_half(rng, extreme);
      std::memcpy(blk + off, &h, 2);
    }
    if (as_activation || t == DType::Q8_1) {
      auto* qs = reinterpret_cast<int8_t*>(blk + (t == DType::Q8_1 ? 4 : 2));
      int sum = 0;
      for (int j = 0; j < 32; ++j) sum += (qs[j] = int8_t(q8(rng)));
      if (t == DType::Q8_1) {
        uint16_t d;
        std::memcpy(&d, blk, 2);
        const uint16_t s = fp32_to_fp16(fp16_to_fp32(d) * float(sum));
        std::memcpy(blk + 2, &s, 2);
      }
    }
  }
  return row;
}

// The row with every quant code zeroed (see BlockFields); float types return all zeros.
inline std::vector<uint8_t> zero_quants(DType t, const std::vector<uint8_t>& row) {
  const TypeInfo& ti = type_info(t);
  std::vector<uint8_t> out = row;
  const BlockFields f = block_fields(t);
  if (!ti.quantized) {
    std::fill(out.begin(), out.end(), 0);
    return out;
  }
  for (size_t b = 0; b < out.size(); b += ti.type_size) {
    std::fill(out.begin() + long(b) + f.quants_begin, out.begin() + long(b) + f.quants_end, 0);
  }
  return out;
}

// Σ_i |a_i|·(|w_i − o_i| + |o_i|) with o the zero-code part of w: bounds the sum of the absolute
// values of every float term a block-structured dot adds (the scaled integer sum and the separate
// min / offset term), whatever order the kernel adds them in. Q8_1's separately rounded s adds
// at most 2^-10 relative on the min terms, folded in as a factor.
inline double dot_magnitude(DType wt, const std::vector<uint8_t>& w, const std::vector<float>& a) {
  const auto n = int64_t(a.size());
  const std::vector<float> wd = dequantize(wt, w.data(), n);
  const std::vector<float> od = dequantize(wt, zero_quants(wt, w).data(), n);
  double m = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    m += std::fabs(double(a[i])) * (std::fabs(double(wd[i]) - od[i]) + std::fabs(double(od[i])));
  }
  return m * (1.0 + 1.0 / 1024);
}

// Number of float terms a dot of n elements of wt adds: one per element for float types, two
// per block (scaled sum, min/offset) otherwise.
inline int64_t dot_terms(DType wt, int64_t n) {
  const TypeInfo& ti = type_info(wt);
  return ti.quantized ? 2 * (n / ti.block_size) : n;
}

}  // namespace minima::test
