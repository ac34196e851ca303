// Kernel tables per instruction set. A KernelSet is a table of plain function pointers chosen once
// at startup (select_kernels) and passed explicitly to whoever computes; there is no global
// "current ISA". Every entry has a scalar reference in core/quant/quant.hpp and the tests compare
// each fast entry against it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/quant/types.hpp"

namespace minima {

enum class Isa { Scalar, Avx2, Avx512 };
std::string_view isa_name(Isa isa);

// Best ISA this CPU supports, lowered by the environment variable MINIMA_CPU=scalar|avx2|avx512
// (a request above what the CPU has is refused with an Error).
Isa detect_isa();
bool cpu_supports(Isa isa);

// What detect_isa does with the variable's value, split out for tests: an empty request gives
// best; "scalar", "avx2" or "avx512" gives that ISA when it is not above best; anything else, or
// a request above best, throws Error naming the value and what the CPU has.
Isa resolve_isa(std::string_view request, Isa best);

// AVX512_VBMI (byte permutes) on top of Isa::Avx512: Ice Lake, Sapphire Rapids, Zen 4 and later
// have it, Cascade Lake does not. The AVX-512 table takes its decode row dots only with it.
bool cpu_has_avx512_vbmi();
// AVX512_BF16 (vdpbf16ps) on top of Isa::Avx512: Cooper Lake, Sapphire Rapids, Zen 4 and later.
bool cpu_has_avx512_bf16();

using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);
using VecDotFn = float (*)(const void* w, const void* a, int64_t n);
// Decode GEMV (core/gemv.hpp): out[i] = dot(row i, a) for i in [0, n_rows), rows row_stride bytes
// apart from w. Each row's value depends only on that row and a (never on n_rows or on where the
// row sits in the call), so any split of the rows over threads gives the same bits.
using DotRowsFn = void (*)(const void* w, size_t row_stride, int64_t n_rows, const void* a,
                           int64_t n, float* out);
// Where a dynamically split decode GEMV gets its rows (core/row_queue.hpp): next() gives the
// caller's next chunk [r0, r1), false when none is left.
class RowSource {
 public:
  virtual bool next(int64_t& r0, int64_t& r1) = 0;

 protected:
  ~RowSource() = default;
};
// DotRowsFn over the chunks rows hands out, out[r] for every row r of every chunk (rows counted
// from w): the activation is prepared once for all chunks, and each value has DotRowsFn's bits.
using DotRowsDynFn = void (*)(const void* w, size_t row_stride, RowSource& rows, const void* a,
                              int64_t n, float* out);
// The same for up to kDotRowsMultiMax activation rows at once (act_stride bytes apart), out[t·ldo
// + i]: each value bit-identical to DotRowsFn's for that activation, the weights read once.
inline constexpr int64_t kDotRowsMultiMax = 4;
using DotRowsMultiFn = void (*)(const void* w, size_t row_stride, int64_t n_rows, const void* a,
                                size_t act_stride, int64_t n_tok, int64_t n, float* out,
                                int64_t ldo);
struct AttentionTile;
using AttentionFn = void (*)(const AttentionTile& tile, float* scratch);  // core/attention.hpp
// Prefill GEMM (core/gemm.hpp): pack 16 F32 weight rows into a [kc][16] panel, and multiply
// panels by activation rows.
using GemmPackFn = void (*)(const float* rows, int64_t ld, int64_t kc, float* panel);
using GemmTileFn = void (*)(const float* panels, int64_t n_panels, int64_t kc, const float* x,
                            int64_t ldx, int64_t n_tok, float* y, int64_t ldy, bool accumulate);

// Integer prefill GEMM (core/qgemm.hpp): repack up to 16 weight rows into a panel, and multiply
// panels by quantized activation rows.
struct QActs;
enum class QgemmKind;
using QgemmPackFn = void (*)(const void* rows, size_t row_stride, int64_t n_rows, int64_t kc,
                             uint8_t* panel);
using QgemmTileFn = void (*)(const uint8_t* panels, int64_t n_panels, int64_t kc, QgemmKind kind,
                             const QActs& a, int64_t n_tok, float* y, int64_t ldy, bool accumulate);

// Training GEMM microkernels (core/sgemm.hpp): one mr × nr tile of C at c (row stride ldc) gets
// (load_c ? c : 0) + Σ_k a[k·mr + i]·b[k·nr + j], a chain in increasing k. BF16: a and b hold
// bfloat16 pairs, a: [kc/2][mr][2], b: [kc/2][nr][2], kc even.
using SgemmMicroF32Fn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                                 bool load_c);
using SgemmMicroBf16Fn = void (*)(int64_t kc, const uint16_t* a, const uint16_t* b, float* c,
                                  int64_t ldc, bool load_c);
// BF16 panel packing (core/sgemm.hpp), word p·width + r of dst = the pair (α·x_r[2p],
// α·x_r[2p+1]) rounded to bfloat16 (lo, hi), for r < n and pairs p < ceil(kc/2) (a missing last
// k is 0). "t": x_r = src + r·ld, the k run along a source row; "n": x_r[k] = src[k·ld + r], the
// rows of the panel run along a source row. n ≤ width ≤ kSgemmMaxNr; words r ≥ n are not written.
using SgemmPackBf16Fn = void (*)(const float* src, int64_t ld, int64_t n, int64_t kc, float alpha,
                                 uint32_t* dst, int64_t width);
inline constexpr int kSgemmMaxMr = 16, kSgemmMaxNr = 32;
struct SgemmKernels {
  int mr = 4, nr = 8;  // tile of both microkernels (≤ kSgemmMaxMr × kSgemmMaxNr)
  SgemmMicroF32Fn f32 = nullptr;
  SgemmMicroBf16Fn bf16 = nullptr;  // null where the CPU has no BF16 dot instruction
  SgemmPackBf16Fn pack_bf16_t = nullptr, pack_bf16_n = nullptr;  // with bf16
};

// gate[i] = silu(gate[i]) · up[i] for i < n, silu(x) = x / (1 + e^-x) (the SwiGLU of the MLP):
// element i's value depends only on gate[i] and up[i], never on n or its position.
using SiluMulFn = void (*)(float* gate, const float* up, int64_t n);
void silu_mul_ref(float* gate, const float* up, int64_t n);  // libm's expf, in order

// out[i] = x[i] · (1 / sqrt(mean(x²) + eps)) · w[i] for i < n (RMSNorm; out may be x). The sum of
// squares is taken in double (exact products, so only the order of the additions differs between
// kernels: a relative n·2^-53), the rest in float in the reference's order.
using RmsNormFn = void (*)(const float* x, const float* w, float* out, int64_t n, float eps);
void rms_norm_ref(const float* x, const float* w, float* out, int64_t n, float eps);  // in order

struct KernelSet {
  Isa isa;
  // Indexed by ggml type id; null where the type has no such kernel.
  std::array<DequantizeRowFn, kDTypeCount> dequantize{};
  std::array<QuantizeRowFn, kDTypeCount> quantize{};  // activations: Q8_0, Q8_1, Q8_K (+F32 copy)
  std::array<VecDotFn, kDTypeCount> dot{};            // weight type -> dot with its vec_dot_type
  std::array<DotRowsFn, kDTypeCount> dot_rows{};      // the same dot over several rows
  std::array<DotRowsMultiFn, kDTypeCount> dot_rows_multi{};  // ... and tokens; may be null
  std::array<DotRowsDynFn, kDTypeCount> dot_rows_dyn{};      // ... pulling rows; may be null
  AttentionFn attention = nullptr;                           // causal attention of one tile
  GemmPackFn gemm_pack = nullptr;
  GemmTileFn gemm_tile = nullptr;
  // Null where the table has no integer path for the type (it then takes the F32 GEMM).
  std::array<QgemmPackFn, kDTypeCount> qgemm_pack{};
  QgemmTileFn qgemm_tile = nullptr;
  SgemmKernels sgemm;
  SiluMulFn silu_mul = silu_mul_ref;
  RmsNormFn rms_norm = rms_norm_ref;

  VecDotFn dot_for(DType t) const { return dot[static_cast<uint32_t>(t)]; }
  DotRowsFn dot_rows_for(DType t) const { return dot_rows[static_cast<uint32_t>(t)]; }
  QuantizeRowFn quantize_for(DType t) const { return quantize[static_cast<uint32_t>(t)]; }
  DequantizeRowFn dequantize_for(DType t) const { return dequantize[static_cast<uint32_t>(t)]; }
};

// The table for isa: entries without a specialised kernel fall back to the scalar reference, so
// every table is complete. isa must be supported by this CPU.
const KernelSet& kernels_for(Isa isa);

}  // namespace minima
