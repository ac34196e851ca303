// Kernel tables. Every table starts as the scalar reference for every supported type (so it is
// complete) and the AVX2 table then overrides the entries that have a fast path; the AVX-512 table
// starts from the AVX2 one and overrides what has an AVX-512 kernel.
#include "core/kernels/kernels.hpp"

#include <cmath>

#include "core/attention.hpp"
#include "core/error.hpp"
#include "core/gemm.hpp"
#include "core/kernels/avx2.hpp"
#include "core/kernels/avx512.hpp"
#include "core/quant/ref_kernels.hpp"
#include "core/sgemm.hpp"

namespace minima {

void silu_mul_ref(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void rms_norm_ref(const float* x, const float* w, float* out, int64_t n, float eps) {
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * double(x[i]);
  const float scale = 1.0f / std::sqrt(static_cast<float>(ss / double(n)) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

namespace {

template <class Fn>
void put(std::array<Fn, kDTypeCount>& table, DType t, Fn fn) {
  table[static_cast<uint32_t>(t)] = fn;
}

KernelSet scalar_table() {
  KernelSet k;
  k.isa = Isa::Scalar;
  k.attention = attention_tile_ref;
  k.gemm_pack = gemm_pack_ref;
  k.gemm_tile = gemm_tile_ref;
  k.sgemm = {4, 8, sgemm_micro_f32_ref, nullptr, nullptr, nullptr};
  for (uint32_t id = 0; id < kDTypeCount; ++id) {
    if (!type_info(id)) continue;
    const auto row = quant::ref::ref_row(static_cast<DType>(id));
    k.dequantize[id] = row.dequantize;
    k.quantize[id] = row.quantize;
    k.dot[id] = row.dot;
    k.dot_rows[id] = quant::ref::dot_rows(static_cast<DType>(id));
  }
  return k;
}

KernelSet avx2_table(Isa isa) {
  KernelSet k = scalar_table();
  k.isa = isa;
#ifdef MINIMA_HAVE_AVX2_KERNELS
  k.attention = avx2::attention_tile;
  k.gemm_pack = avx2::gemm_pack;
  k.gemm_tile = avx2::gemm_tile;
  k.sgemm = {6, 16, avx2::sgemm_micro_f32, nullptr, nullptr, nullptr};
  put<DequantizeRowFn>(k.dequantize, DType::F16, avx2::dequantize_f16);
  put<DequantizeRowFn>(k.dequantize, DType::BF16, avx2::dequantize_bf16);
  put<DequantizeRowFn>(k.dequantize, DType::Q4_0, avx2::dequantize_q4_0);
  put<DequantizeRowFn>(k.dequantize, DType::Q8_0, avx2::dequantize_q8_0);
  put<DequantizeRowFn>(k.dequantize, DType::Q4_K, avx2::dequantize_q4_k);
  put<DequantizeRowFn>(k.dequantize, DType::Q6_K, avx2::dequantize_q6_k);
  put<DequantizeRowFn>(k.dequantize, DType::Q4_1, avx2::dequantize_q4_1);
  put<DequantizeRowFn>(k.dequantize, DType::Q5_0, avx2::dequantize_q5_0);
  put<DequantizeRowFn>(k.dequantize, DType::Q5_1, avx2::dequantize_q5_1);
  put<DequantizeRowFn>(k.dequantize, DType::Q2_K, avx2::dequantize_q2_k);
  put<DequantizeRowFn>(k.dequantize, DType::Q3_K, avx2::dequantize_q3_k);
  put<DequantizeRowFn>(k.dequantize, DType::Q5_K, avx2::dequantize_q5_k);

  put<QuantizeRowFn>(k.quantize, DType::F16, avx2::quantize_f16);
  put<QuantizeRowFn>(k.quantize, DType::BF16, avx2::quantize_bf16);
  put<QuantizeRowFn>(k.quantize, DType::Q8_0, avx2::quantize_q8_0);
  put<QuantizeRowFn>(k.quantize, DType::Q8_1, avx2::quantize_q8_1);
  put<QuantizeRowFn>(k.quantize, DType::Q8_K, avx2::quantize_q8_k);

  put<VecDotFn>(k.dot, DType::F32, avx2::dot_f32);
  put<VecDotFn>(k.dot, DType::F16, avx2::dot_f16);
  put<VecDotFn>(k.dot, DType::BF16, avx2::dot_bf16);
  put<VecDotFn>(k.dot, DType::Q4_0, avx2::dot_q4_0);
  put<VecDotFn>(k.dot, DType::Q4_1, avx2::dot_q4_1);
  put<VecDotFn>(k.dot, DType::Q5_0, avx2::dot_q5_0);
  put<VecDotFn>(k.dot, DType::Q5_1, avx2::dot_q5_1);
  put<VecDotFn>(k.dot, DType::Q8_0, avx2::dot_q8_0);
  put<VecDotFn>(k.dot, DType::Q2_K, avx2::dot_q2_k);
  put<VecDotFn>(k.dot, DType::Q3_K, avx2::dot_q3_k);
  put<VecDotFn>(k.dot, DType::Q4_K, avx2::dot_q4_k);
  put<VecDotFn>(k.dot, DType::Q5_K, avx2::dot_q5_k);
  put<VecDotFn>(k.dot, DType::Q6_K, avx2::dot_q6_k);
  avx2::put_dot_rows(k.dot_rows);
  avx2::put_dot_rows_multi(k.dot_rows_multi);
#endif
  return k;
}

// AVX2 entries, then the AVX-512 ones where they exist: the F32 GEMM microkernel (same bits as
// AVX2's), the integer prefill GEMM for Q4_0 / Q8_0 / Q4_K / Q5_K / Q6_K
// (core/qgemm.hpp), the attention tile, and on CPUs with VBMI the decode row dots of Q4_0 and
// Q8_0 (on Zen 5 the AVX2 Q4_0 row dot was bound by its own instruction count at ~23 GB/s per
// core; the VBMI one needs under half the instructions per block). The other types' row dots
// stay AVX2.
KernelSet avx512_table() {
  KernelSet k = avx2_table(Isa::Avx512);
#ifdef MINIMA_HAVE_AVX512_KERNELS
  k.gemm_tile = avx512::gemm_tile;
  k.attention = avx512::attention_tile;
  k.silu_mul = avx512::silu_mul;
  k.rms_norm = avx512::rms_norm;
  k.qgemm_tile = avx512::qgemm_tile;
  avx512::put_qgemm_packs(k.qgemm_pack);
  if (cpu_has_avx512_vbmi()) avx512::put_dot_rows(k.dot_rows, k.dot_rows_multi, k.dot_rows_dyn);
  k.sgemm = {12, 32, avx512::sgemm_micro_f32, nullptr, nullptr, nullptr};
  if (cpu_has_avx512_bf16()) {
    k.sgemm.bf16 = avx512::sgemm_micro_bf16;
    k.sgemm.pack_bf16_t = avx512::sgemm_pack_bf16_t;
    k.sgemm.pack_bf16_n = avx512::sgemm_pack_bf16_n;
  }
#endif
  return k;
}

}  // namespace

const KernelSet& kernels_for(Isa isa) {
  if (!cpu_supports(isa)) fail("kernels_for: this CPU does not support ", isa_name(isa));
  // Built once, immutable afterwards (function-local statics, no mutable global state).
  static const KernelSet scalar = scalar_table();
  static const KernelSet avx2 = avx2_table(Isa::Avx2);
  static const KernelSet avx512 = avx512_table();
  switch (isa) {
    case Isa::Scalar:
      return scalar;
    case Isa::Avx2:
      return avx2;
    case Isa::Avx512:
      return avx512;
  }
  fail("kernels_for: unknown ISA ", static_cast<int>(isa));
}

}  // namespace minima
