#include "core/qgemm.hpp"

#include <algorithm>
#include <cstring>

#include "core/fp16.hpp"

namespace minima {
namespace {

constexpr int64_t kP = kQgemmPanelRows;
constexpr int64_t kEdgeTokens = 16;  // tokens per call on a partial (< 16 rows) panel

static_assert(kQgemmStripRows % kP == 0, "strips hold whole panels");
static_assert(kQgemmKBlock % kQgemmBlock == 0, "k-blocks split rows at block edges");

size_t align64(size_t n) {
  return (n + 63) / 64 * 64;
}

int64_t balanced(int64_t n, int64_t max, int64_t align) {
  const int64_t parts = (n + max - 1) / max, each = (n + parts - 1) / parts;
  return std::min(max, (each + align - 1) / align * align);
}

// Partial last panel (row count not a multiple of 16): computed into a 16-wide tile whose valid
// columns are then copied, so no row outside the range is written.
void edge_panel(const KernelSet& ks, const uint8_t* panel, int64_t n_rows, int64_t kc,
                const QActs& a, int64_t n_tok, float* y, int64_t ldy, bool accumulate,
                float* tile) {
  for (int64_t t0 = 0; t0 < n_tok; t0 += kEdgeTokens) {
    const int64_t nt = std::min(kEdgeTokens, n_tok - t0);
    if (accumulate) {
      for (int64_t t = 0; t < nt; ++t)
        std::memcpy(tile + t * kP, y + (t0 + t) * ldy, sizeof(float) * size_t(n_rows));
    }
    const int64_t ldb = a.k / kQgemmBlock;
    const QActs at{a.q + t0 * a.k, a.d + t0 * ldb, a.c + t0 * ldb, a.k};
    ks.qgemm_tile(panel, 1, kc, at, nt, tile, kP, accumulate);
    for (int64_t t = 0; t < nt; ++t)
      std::memcpy(y + (t0 + t) * ldy, tile + t * kP, sizeof(float) * size_t(n_rows));
  }
}

}  // namespace

int qgemm_bias(DType t) {
  switch (t) {
    case DType::Q4_0:
      return 8;
    case DType::Q8_0:
      return 128;
    default:
      return 0;
  }
}

bool has_qgemm(const KernelSet& ks, DType t) {
  return ks.qgemm_tile != nullptr && ks.qgemm_pack[static_cast<uint32_t>(t)] != nullptr;
}

size_t qgemm_act_bytes(int64_t n_tok, int64_t k) {
  const size_t n = size_t(n_tok), nb = size_t(k / kQgemmBlock);
  return align64(n * size_t(k)) + align64(n * nb * 4) + align64(n * nb * 4);
}

QActs qgemm_acts(const uint8_t* buf, int64_t n_tok, int64_t k) {
  const size_t nb = size_t(k / kQgemmBlock);
  const uint8_t* d = buf + align64(size_t(n_tok * k));
  const uint8_t* c = d + align64(size_t(n_tok) * nb * 4);
  return {reinterpret_cast<const int8_t*>(buf), reinterpret_cast<const float*>(d),
          reinterpret_cast<const int32_t*>(c), k};
}

void qgemm_quantize(const KernelSet& ks, DType t, const float* x, int64_t n_tok, int64_t k,
                    int64_t t0, int64_t t1, uint8_t* buf, uint8_t* tmp) {
  const int64_t nb = k / kQgemmBlock;
  const QActs a = qgemm_acts(buf, n_tok, k);
  // The layout's own bytes, so writing through them is writing into buf.
  auto* q = const_cast<int8_t*>(a.q);
  auto* d = const_cast<float*>(a.d);
  auto* c = const_cast<int32_t*>(a.c);
  const int32_t bias = qgemm_bias(t);
  const QuantizeRowFn quantize = ks.quantize_for(DType::Q8_0);
  for (int64_t r = t0; r < t1; ++r) {
    quantize(x + r * k, tmp, k);
    const auto* blocks = reinterpret_cast<const BlockQ8_0*>(tmp);
    for (int64_t b = 0; b < nb; ++b) {
      int32_t sum = 0;
      for (int j = 0; j < 32; ++j) sum += blocks[b].qs[j];
      std::memcpy(q + r * k + b * kQgemmBlock, blocks[b].qs, kQgemmBlock);
      d[r * nb + b] = fp16_to_fp32(blocks[b].d);
      c[r * nb + b] = -bias * sum;
    }
  }
}

size_t qgemm_scratch_bytes() {
  const size_t panels =
      size_t(kQgemmStripRows / kP) * size_t(kQgemmKBlock / kQgemmBlock) * size_t(kQgemmBlockBytes);
  return 64 + panels + size_t(kEdgeTokens * kP) * sizeof(float);
}

void qgemm_rows(const KernelSet& ks, const TensorView& w, int64_t r0, int64_t r1, const QActs& a,
                int64_t n_tok, float* y, int64_t ldy, uint8_t* scratch) {
  const int64_t k = w.ne0;
  const TypeInfo& ti = type_info(w.type);
  const QgemmPackFn pack = ks.qgemm_pack[static_cast<uint32_t>(w.type)];
  const auto addr = reinterpret_cast<uintptr_t>(scratch);
  uint8_t* panels = scratch + ((addr + 63) / 64 * 64 - addr);
  auto* tile = reinterpret_cast<float*>(panels + size_t(kQgemmStripRows / kP) *
                                                     size_t(kQgemmKBlock / kQgemmBlock) *
                                                     size_t(kQgemmBlockBytes));
  const int64_t strip = balanced(r1 - r0, kQgemmStripRows, kP);
  const int64_t kblock = balanced(k, kQgemmKBlock, kQgemmBlock);
  for (int64_t s0 = r0; s0 < r1; s0 += strip) {
    const int64_t n_rows = std::min(strip, r1 - s0);
    const int64_t n_full = n_rows / kP, n_panels = (n_rows + kP - 1) / kP;
    for (int64_t k0 = 0; k0 < k; k0 += kblock) {
      const int64_t kc = std::min(kblock, k - k0);
      const size_t panel_bytes = size_t(kc / kQgemmBlock) * size_t(kQgemmBlockBytes);
      const size_t offset = size_t(k0 / ti.block_size) * ti.type_size;
      for (int64_t p = 0; p < n_panels; ++p) {
        const int64_t first = s0 + p * kP;
        pack(static_cast<const uint8_t*>(w.row(first)) + offset, w.row_bytes,
             std::min(kP, s0 + n_rows - first), kc, panels + size_t(p) * panel_bytes);
      }
      const bool accumulate = k0 > 0;
      const int64_t b0 = k0 / kQgemmBlock;
      const QActs ak{a.q + k0, a.d + b0, a.c + b0, k};
      if (n_full > 0) ks.qgemm_tile(panels, n_full, kc, ak, n_tok, y + s0, ldy, accumulate);
      if (n_full < n_panels) {
        edge_panel(ks, panels + size_t(n_full) * panel_bytes, n_rows - n_full * kP, kc, ak, n_tok,
                   y + s0 + n_full * kP, ldy, accumulate, tile);
      }
    }
  }
}

}  // namespace minima
