// AVX2 (+FMA +F16C) kernels, internal to core/kernels. Each is a drop-in for the scalar reference
// of the same name in core/quant/ref_kernels.hpp and is only called when cpu_supports(Isa::Avx2).
// The definitions carry MINIMA_AVX2 (a per-function target attribute) instead of the translation
// unit being compiled with -mavx2: that way no inline function from a shared header can be
// emitted with AVX2 code and picked by the linker for generic callers.
#pragma once

#include <array>
#include <cstdint>

#include "core/kernels/kernels.hpp"

#if defined(__x86_64__) || defined(__i386__)
#define MINIMA_HAVE_AVX2_KERNELS 1
#define MINIMA_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace minima {
struct AttentionTile;
}

namespace minima::avx2 {

// avx2_attention.cpp
void attention_tile(const AttentionTile& t, float* scratch);

// avx2_gemm.cpp
void gemm_pack(const float* rows, int64_t ld, int64_t kc, float* panel);
void gemm_tile(const float* panels, int64_t n_panels, int64_t kc, const float* x, int64_t ldx,
               int64_t n_tok, float* y, int64_t ldy, bool accumulate);

// avx2_sgemm.cpp: the 6 × 16 training GEMM microkernel (contract: SgemmMicroF32Fn).
void sgemm_micro_f32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                     bool load_c);

// avx2_dequant.cpp
void dequantize_q4_1(const void* src, float* dst, int64_t n);
void dequantize_q5_0(const void* src, float* dst, int64_t n);
void dequantize_q5_1(const void* src, float* dst, int64_t n);
void dequantize_q2_k(const void* src, float* dst, int64_t n);
void dequantize_q3_k(const void* src, float* dst, int64_t n);
void dequantize_q5_k(const void* src, float* dst, int64_t n);

// avx2_float.cpp
float dot_f32(const void* w, const void* a, int64_t n);
float dot_f16(const void* w, const void* a, int64_t n);
float dot_bf16(const void* w, const void* a, int64_t n);
void dequantize_f16(const void* src, float* dst, int64_t n);
void dequantize_bf16(const void* src, float* dst, int64_t n);
void quantize_f16(const float* src, void* dst, int64_t n);
void quantize_bf16(const float* src, void* dst, int64_t n);

// avx2_legacy.cpp
void quantize_q8_0(const float* src, void* dst, int64_t n);
void quantize_q8_1(const float* src, void* dst, int64_t n);
void dequantize_q4_0(const void* src, float* dst, int64_t n);
void dequantize_q8_0(const void* src, float* dst, int64_t n);
float dot_q4_0(const void* w, const void* a, int64_t n);
float dot_q4_1(const void* w, const void* a, int64_t n);
float dot_q5_0(const void* w, const void* a, int64_t n);
float dot_q5_1(const void* w, const void* a, int64_t n);
float dot_q8_0(const void* w, const void* a, int64_t n);

// avx2_kquant.cpp (Q8_K quantizer, Q2_K, Q3_K) and avx2_kquant_hi.cpp (Q4_K, Q5_K, Q6_K)
void quantize_q8_k(const float* src, void* dst, int64_t n);
float dot_q2_k(const void* w, const void* a, int64_t n);
float dot_q3_k(const void* w, const void* a, int64_t n);
float dot_q4_k(const void* w, const void* a, int64_t n);
float dot_q5_k(const void* w, const void* a, int64_t n);
float dot_q6_k(const void* w, const void* a, int64_t n);
void dequantize_q4_k(const void* src, float* dst, int64_t n);
void dequantize_q6_k(const void* src, float* dst, int64_t n);

// avx2_rows_*.cpp: multi-row dots for the decode GEMV; fills every weight type's entry.
void put_dot_rows(std::array<DotRowsFn, kDTypeCount>& table);
// ... and the multi-token entries of the types that have one (Q4_0, Q5_0, Q8_0).
void put_dot_rows_multi(std::array<DotRowsMultiFn, kDTypeCount>& table);

}  // namespace minima::avx2

#endif
