// Integer prefill GEMM for the block formats whose weights are an unsigned code per element times
// a per-block (or per-half-block) scale, minus an optional per-block min: Q4_0, Q8_0, Q4_K, Q5_K
// and Q6_K. Activations are quantized once per matmul to 8 bits per block of 32 (exactly the
// reference Q8_0 quantizer), weights are repacked strip by strip into panels laid out for a
// u8 × s8 dot-product instruction (AVX-512 VNNI vpdpbusd), and each block's product is an exact
// integer sum, scaled in float. It replaces the F32 GEMM of core/gemm.hpp for these types where
// the kernel table has the entries (KernelSet::qgemm_pack / qgemm_tile): 2–3× its arithmetic
// throughput and a quarter of its panel bytes.
//
// Panel (16 weight rows × kc, kc a multiple of 32): kc / 32 blocks of qgemm_block_bytes(kind)
// bytes; block b = 512 code bytes [8 groups][16 rows][4 codes] (group g: elements 4g .. 4g+3 of
// the block, so one 64-byte line feeds one vpdpbusd), then rows of 16 floats, one per weight row:
//   Plain  (Q4_0, Q8_0): d_w                    w = d_w · (u − bias)
//   Min    (Q4_K, Q5_K): d_w, then n_w = −min   w = d_w · u + n_w      (bias 0)
//   Halves (Q6_K):       d_lo, d_hi             w = d_half · (u − bias), elements 0..15 / 16..31
// Codes are unsigned: u = w's code + bias, bias = qgemm_bias(type) (8 for Q4_0, 128 for Q8_0, 32
// for Q6_K, 0 for Q4_K / Q5_K, whose codes are unsigned already). Rows past the end of the matrix
// are packed as zero codes and zero scales.
//
// Activations (QActs), per token and block of 32: codes q, the scale d (the Q8_0 block's fp16 scale
// as float), c32 = −bias · Σ q, c16 = −bias · Σ q over each half, and s = float(Σ q).
//
// Numerics, the contract of qgemm_tile (and of every implementation): per output element,
// y ← (accumulate ? y : 0), then for each block b in increasing order
//   Plain:  y ← fma(float(c32 + Σ_j u_j·q_j), fl(d_w · d), y)
//   Min:    y ← fma(float(Σ_j u_j·q_j), fl(d_w · d), y);  y ← fma(s, fl(n_w · d), y)
//   Halves: y ← fma(float(c16_lo + Σ_{j<16} u_j·q_j), fl(d_lo · d), y);  then the same for hi
// Integer sums are exact (|·| < 2^21, so their float conversion is too) and each step rounds once,
// so every implementation gives the same bits, whatever the token grouping, k-blocking or thread
// split. Against the exact product of the dequantized weights and activations the error is at
// most (γ_{2·nb} + u) · Σ |terms|. The difference from the F32 GEMM is the activation
// quantization, which the reference engine also applies for these types (its dot products take
// Q8_0 / Q8_K activations).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/kernels/kernels.hpp"
#include "core/tensor.hpp"

namespace minima {

inline constexpr int64_t kQgemmBlock = 32;      // elements per block
inline constexpr int64_t kQgemmPanelRows = 16;  // weight rows per panel (one zmm of int32)
inline constexpr int64_t kQgemmCodeBytes = 512;
inline constexpr int64_t kQgemmKBlock = 2048;   // most k per packed block of a strip
inline constexpr int64_t kQgemmStripRows = 64;  // rows packed together per k-block

enum class QgemmKind { Plain, Min, Halves };

// The layout of a type with an integer prefill path (Plain for the others, unused).
QgemmKind qgemm_kind(DType t);
// The code offset of a type with an integer prefill path, 0 for the others.
int qgemm_bias(DType t);
constexpr int64_t qgemm_block_bytes(QgemmKind k) {
  return kQgemmCodeBytes + (k == QgemmKind::Plain ? 64 : 128);
}
// Whether ks has the integer path for t.
bool has_qgemm(const KernelSet& ks, DType t);

// Quantized activations of n_tok rows of k elements (k a multiple of 32); see above. Token rows
// are k codes, k / 32 blocks and k / 16 halves apart.
struct QActs {
  const int8_t* q = nullptr;     // [n_tok][k]
  const float* d = nullptr;      // [n_tok][k / 32]
  const int32_t* c32 = nullptr;  // [n_tok][k / 32]
  const int32_t* c16 = nullptr;  // [n_tok][k / 16]
  const float* s = nullptr;      // [n_tok][k / 32]
  int64_t k = 0;
  // The same rows from token t0 and block b0 on.
  QActs at(int64_t t0, int64_t b0) const {
    const int64_t nb = k / kQgemmBlock;
    return {q + t0 * k + b0 * kQgemmBlock, d + t0 * nb + b0, c32 + t0 * nb + b0,
            c16 + 2 * (t0 * nb + b0),      s + t0 * nb + b0, k};
  }
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

// Scalar reference of the pack entries (qgemm_pack.cpp): rows: n_rows (<= 16) weight rows of type
// t at row_stride bytes, each from the block that starts the k-range (for the K-quants a multiple
// of 256); writes kc / 32 panel blocks, codes in plain loops, then qgemm_pack_scales.
void qgemm_pack_ref(DType t, const void* rows, size_t row_stride, int64_t n_rows, int64_t kc,
                    uint8_t* panel);

// The scale rows alone (what the packs write after the codes of each block), shared by the
// reference and the fast packs, which write the codes themselves.
void qgemm_pack_scales(DType t, const void* rows, size_t row_stride, int64_t n_rows, int64_t kc,
                       uint8_t* panel);

// Scalar reference of the tile (qgemm_ref.cpp). panels: [n_panels] panels of kc of the kind; a:
// activations offset to the k-range's first block; y: columns [16p, 16p + 16) belong to panel p.
void qgemm_tile_ref(const uint8_t* panels, int64_t n_panels, int64_t kc, QgemmKind kind,
                    const QActs& a, int64_t n_tok, float* y, int64_t ldy, bool accumulate);

}  // namespace minima
