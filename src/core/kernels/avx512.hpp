// AVX-512 kernels (F, BW, DQ, VL and VNNI), internal to core/kernels. Like the AVX2 set (avx2.hpp),
// each definition carries a per-function target attribute (MINIMA_AVX512) and is only called when
// cpu_supports(Isa::Avx512); each is a drop-in for the scalar reference of the same contract.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/kernels/kernels.hpp"

#if defined(__x86_64__) || defined(__i386__)
#define MINIMA_HAVE_AVX512_KERNELS 1
#define MINIMA_AVX512 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace minima {
struct AttentionTile;
}

namespace minima::avx512 {

// avx512_attention.cpp (contract: core/attention.hpp).
void attention_tile(const AttentionTile& t, float* scratch);

// avx512_activation.cpp (contract: SiluMulFn in kernels.hpp).
void silu_mul(float* gate, const float* up, int64_t n);

// avx512_norm.cpp (contract: RmsNormFn in kernels.hpp).
void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps);

// avx512_gemm.cpp: the F32 GEMM microkernel (contract: gemm_tile_ref in core/gemm.hpp).
void gemm_tile(const float* panels, int64_t n_panels, int64_t kc, const float* x, int64_t ldx,
               int64_t n_tok, float* y, int64_t ldy, bool accumulate);

// avx512_qgemm.cpp: the integer GEMM (contracts: core/qgemm.hpp).
void qgemm_tile(const uint8_t* panels, int64_t n_panels, int64_t kc, QgemmKind kind, const QActs& a,
                int64_t n_tok, float* y, int64_t ldy, bool accumulate);
// The pack entries (contract: qgemm_pack_ref) of every type with an integer path (Q4_0, Q8_0,
// Q4_K, Q5_K, Q6_K).
void put_qgemm_packs(std::array<QgemmPackFn, kDTypeCount>& table);

// avx512_sgemm.cpp: the 12 × 32 training GEMM microkernels (contracts: SgemmMicroF32Fn,
// SgemmMicroBf16Fn; the BF16 one needs AVX512_BF16: only put it in a table when
// cpu_has_avx512_bf16()).
void sgemm_micro_f32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                     bool load_c);
void sgemm_micro_bf16(int64_t kc, const uint16_t* a, const uint16_t* b, float* c, int64_t ldc,
                      bool load_c);
void sgemm_pack_bf16_t(const float* src, int64_t ld, int64_t n, int64_t kc, float alpha,
                       uint32_t* dst, int64_t width);
void sgemm_pack_bf16_n(const float* src, int64_t ld, int64_t n, int64_t kc, float alpha,
                       uint32_t* dst, int64_t width);

// avx512_rows.cpp: the decode row dots of Q4_0 and Q8_0, one token, several, and one token over
// rows pulled from a RowSource (contracts: DotRowsFn, DotRowsMultiFn, DotRowsDynFn). They also need
// AVX512_VBMI: only put them in a table when cpu_has_avx512_vbmi().
void put_dot_rows(std::array<DotRowsFn, kDTypeCount>& rows,
                  std::array<DotRowsMultiFn, kDTypeCount>& multi,
                  std::array<DotRowsDynFn, kDTypeCount>& dyn);

}  // namespace minima::avx512

#endif
