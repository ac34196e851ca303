#include "core/gemm.hpp"

#include <algorithm>
#include <cstring>

namespace minima {
namespace {

constexpr int64_t kP = kGemmPanelRows;
constexpr int64_t kEdgeTokens = 16;   // tokens per call on a partial (< 16 rows) panel
constexpr int64_t kAlignFloats = 16;  // 64 bytes: a panel's k-row is one cache line
constexpr int64_t kPrefetchRows = 6;  // weight rows between a prefetch and its dequantization

static_assert(kGemmStripRows % kP == 0, "strips hold whole panels");
static_assert(kGemmKBlock % 256 == 0, "k-blocks must split every block format at block edges");

struct Scratch {
  float* panels;  // [kGemmStripRows / 16][kc][16]
  float* rows;    // [16][kc]: dequantized rows of one panel before packing
  float* edge;    // [kEdgeTokens][16]: output tile of a partial panel
};

Scratch carve(float* scratch) {
  const auto addr = reinterpret_cast<uintptr_t>(scratch);
  const uintptr_t aligned = (addr + 4 * kAlignFloats - 1) / (4 * kAlignFloats) * (4 * kAlignFloats);
  float* base = scratch + (aligned - addr) / sizeof(float);
  return {base, base + kGemmStripRows * kGemmKBlock, base + (kGemmStripRows + kP) * kGemmKBlock};
}

// The last panel of a strip when fewer than 16 rows are left (only at the end of a matrix whose
// row count is not a multiple of 16): computed into a 16-wide tile, then the valid columns are
// copied, so no row outside [r0, r1) is ever written.
void edge_panel(const KernelSet& ks, const float* panel, int64_t n_rows, int64_t kc, const float* x,
                int64_t ldx, int64_t n_tok, float* y, int64_t ldy, bool accumulate, float* tile) {
  for (int64_t t0 = 0; t0 < n_tok; t0 += kEdgeTokens) {
    const int64_t nt = std::min(kEdgeTokens, n_tok - t0);
    if (accumulate) {
      for (int64_t t = 0; t < nt; ++t)
        std::memcpy(tile + t * kP, y + (t0 + t) * ldy, sizeof(float) * size_t(n_rows));
    }
    ks.gemm_tile(panel, 1, kc, x + t0 * ldx, ldx, nt, tile, kP, accumulate);
    for (int64_t t = 0; t < nt; ++t)
      std::memcpy(y + (t0 + t) * ldy, tile + t * kP, sizeof(float) * size_t(n_rows));
  }
}

// The size of ceil(n / max) nearly equal parts of n, rounded up to a multiple of align (max is
// one): a 288-row range becomes two strips of 144 rather than 256 + 32, a row of 576 three
// k-blocks of 192 rather than 256 + 256 + 64, so no part is a sliver that pays the per-block
// overheads for little work.
int64_t balanced(int64_t n, int64_t max, int64_t align) {
  const int64_t parts = (n + max - 1) / max, each = (n + parts - 1) / parts;
  return std::min(max, (each + align - 1) / align * align);
}

}  // namespace

int64_t gemm_scratch_floats(int64_t /*k*/) {
  // K-blocking makes the scratch independent of the row length.
  return (kGemmStripRows + kP) * kGemmKBlock + kEdgeTokens * kP + kAlignFloats;
}

void gemm_rows(const KernelSet& ks, const TensorView& w, int64_t r0, int64_t r1, const float* x,
               int64_t n_tok, float* y, int64_t ldy, float* scratch) {
  const int64_t k = w.ne0;
  const TypeInfo& ti = type_info(w.type);
  const DequantizeRowFn dequantize = ks.dequantize_for(w.type);
  const Scratch s = carve(scratch);
  const int64_t strip = balanced(r1 - r0, kGemmStripRows, kP);
  const int64_t kblock = balanced(k, kGemmKBlock, std::max<int64_t>(ti.block_size, 16));
  for (int64_t s0 = r0; s0 < r1; s0 += strip) {
    const int64_t n_rows = std::min(strip, r1 - s0);
    const int64_t n_full = n_rows / kP, n_panels = (n_rows + kP - 1) / kP;
    for (int64_t k0 = 0; k0 < k; k0 += kblock) {
      const int64_t kc = std::min(kblock, k - k0);
      const size_t offset = size_t(k0 / ti.block_size) * ti.type_size;
      const size_t bytes = size_t(kc / ti.block_size) * ti.type_size;
      for (int64_t p = 0; p < n_panels; ++p) {
        for (int64_t i = 0; i < kP; ++i) {
          const int64_t r = s0 + p * kP + i;
          // Each row contributes only a short segment per k-block, too short for the hardware
          // prefetchers to follow, so the segment kPrefetchRows rows ahead is requested now.
          if (r + kPrefetchRows < s0 + n_rows) {
            const auto* ahead = static_cast<const char*>(w.row(r + kPrefetchRows)) + offset;
            for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch(ahead + b);
            __builtin_prefetch(ahead + bytes - 1);
          }
          if (r < s0 + n_rows) {
            dequantize(static_cast<const uint8_t*>(w.row(r)) + offset, s.rows + i * kc, kc);
          } else {
            std::fill_n(s.rows + i * kc, kc, 0.0f);
          }
        }
        ks.gemm_pack(s.rows, kc, kc, s.panels + p * kc * kP);
      }
      const bool accumulate = k0 > 0;
      const float* xk = x + k0;
      if (n_full > 0) ks.gemm_tile(s.panels, n_full, kc, xk, k, n_tok, y + s0, ldy, accumulate);
      if (n_full < n_panels) {
        edge_panel(ks, s.panels + n_full * kc * kP, n_rows - n_full * kP, kc, xk, k, n_tok,
                   y + s0 + n_full * kP, ldy, accumulate, s.edge);
      }
    }
  }
}

}  // namespace minima
