// Integer prefill GEMM for the 32-element block formats whose codes are one unsigned byte plus a
// per-block scale (Q4_0, Q8_0): activations are quantized once per matmul to 8 bits per block of 32
// (exactly the reference Q8_0 quantizer), weights are repacked strip by strip into panels laid out
// for a u8 × s8 dot-product instruction (AVX-512 VNNI vpdpbusd), and each block's product is an
// exact integer sum, scaled in float. It replaces the F32 GEMM of core/gemm.hpp for these types
// where the kernel table has the entries (KernelSet::qgemm_pack / qgemm_tile), which is 2–3× its
// arithmetic throughput and a quarter of its panel bytes.
//
// Panel (16 weight rows × kc, kc a multiple of 32): kc / 32 blocks of kQgemmBlockBytes bytes,
// block b = 512 code bytes [8 groups][16 rows][4 codes] (group g: elements 4g .. 4g+3 of the
// block, so one 64-byte line feeds one vpdpbusd) then 16 floats: row i's block scale. Codes are
// unsigned: u = w + bias, bias = qgemm_bias(type) (8 for Q4_0's nibbles, 128 for Q8_0's bytes).
// Rows past the end of the matrix are packed as zero codes and zero scales.
//
// Activations (QActs): per token and block, 32 signed codes q, the scale d (the Q8_0 block's fp16
// scale as float) and c = −bias · Σ q, so that c + Σ u·q = Σ w·q exactly.
//
// Numerics, the contract of qgemm_tile (and of every implementation):
//   y[t][r] ← (accumulate ? y[t][r] : 0), then for b in increasing order
//   y[t][r] ← fma(float(c[t][b] + Σ_j u[r][b][j]·q[t][b][j]), fl(d_w[r][b] · d_x[t][b]), y[t][r])
// The integer sum is exact (|·| < 2^21, so its float conversion is too) and each step rounds once,
// so every implementation gives the same bits, whatever the token grouping, k-blocking or thread
// split. Against the exact product of the dequantized weights and the dequantized activations the
// error is at most γ_nb · Σ_b |d_w·d_x·isum_b| + nb·u·Σ_b |...| (the scale product's rounding).
// The difference from the F32 GEMM is the activation quantization (what the reference engine does
// for these types too: its dot products take Q8_0 activations).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/kernels/kernels.hpp"
#include "core/tensor.hpp"

namespace minima {

inline constexpr int64_t kQgemmBlock = 32;        // elements per block
inline constexpr int64_t kQgemmPanelRows = 16;    // weight rows per panel (one zmm of int32)
inline constexpr int64_t kQgemmBlockBytes = 576;  // 512 code bytes + 16 float scales
inline constexpr int64_t kQgemmKBlock = 2048;     // most k per packed block of a strip
inline constexpr int64_t kQgemmStripRows = 64;    // rows packed together per k-block

// The code offset of a type with an integer prefill path, 0 for the others.
int qgemm_bias(DType t);
// Whether ks has the integer path for t.
bool has_qgemm(const KernelSet& ks, DType t);

// Quantized activations of n_tok rows of k elements (k a multiple of 32); see above.
struct QActs {
  const int8_t* q = nullptr;   // [n_tok][k]
  const float* d = nullptr;    // [n_tok][k / 32]
  const int32_t* c = nullptr;  // [n_tok][k / 32]
  int64_t k = 0;
};

// Bytes of activation storage for n_tok rows of k elements, and the activations laid out in it.
size_t qgemm_act_bytes(int64_t n_tok, int64_t k);
QActs qgemm_acts(const uint8_t* buf, int64_t n_tok, int64_t k);
// Quantizes rows [t0, t1) of x: [n_tok, k] into buf (laid out as qgemm_acts(buf, n_tok, k)) for
// weights of type t: q and d are exactly those of ks.quantize[Q8_0]. Disjoint row ranges write
// disjoint bytes, so threads may quantize side by side. tmp: one Q8_0 row of k elements.
void qgemm_quantize(const KernelSet& ks, DType t, const float* x, int64_t n_tok, int64_t k,
                    int64_t t0, int64_t t1, uint8_t* buf, uint8_t* tmp);

// Bytes of per-thread scratch qgemm_rows needs (independent of the row length).
size_t qgemm_scratch_bytes();

// y[t·ldy + r] for r in [r0, r1): rows of w (type with has_qgemm) times the quantized activations.
void qgemm_rows(const KernelSet& ks, const TensorView& w, int64_t r0, int64_t r1, const QActs& a,
                int64_t n_tok, float* y, int64_t ldy, uint8_t* scratch);

// Scalar references (qgemm_ref.cpp). rows: n_rows (<= 16) rows at row_stride bytes, each from the
// block that starts the k-range; writes kc / 32 blocks to panel.
void qgemm_pack_q4_0_ref(const void* rows, size_t row_stride, int64_t n_rows, int64_t kc,
                         uint8_t* panel);
void qgemm_pack_q8_0_ref(const void* rows, size_t row_stride, int64_t n_rows, int64_t kc,
                         uint8_t* panel);
// panels: [n_panels] panels of kc; a: activations with q, d, c offset to the k-range's first
// block (token rows stay a.k codes / a.k / 32 blocks apart); y: columns [16p, 16p + 16) belong to
// panel p.
void qgemm_tile_ref(const uint8_t* panels, int64_t n_panels, int64_t kc, const QActs& a,
                    int64_t n_tok, float* y, int64_t ldy, bool accumulate);

}  // namespace minima
