#include "core/qgemm.hpp"

#include <algorithm>
#include <cstring>

#include "core/fp16.hpp"

namespace minima {
namespace {

constexpr int64_t kP = kQgemmPanelRows;
constexpr int64_t kEdgeTokens = 16;  // tokens per call on a partial (< 16 rows) panel
constexpr int64_t kMaxBlockBytes = qgemm_block_bytes(QgemmKind::Min);

static_assert(kQgemmStripRows % kP == 0, "strips hold whole panels");
static_assert(kQgemmKBlock % 256 == 0, "k-blocks split rows at super-block edges");

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
                QgemmKind kind, const QActs& a, int64_t n_tok, float* y, int64_t ldy,
                bool accumulate, float* tile) {
  for (int64_t t0 = 0; t0 < n_tok; t0 += kEdgeTokens) {
    const int64_t nt = std::min(kEdgeTokens, n_tok - t0);
    if (accumulate) {
      for (int64_t t = 0; t < nt; ++t)
        std::memcpy(tile + t * kP, y + (t0 + t) * ldy, sizeof(float) * size_t(n_rows));
    }
    ks.qgemm_tile(panel, 1, kc, kind, a.at(t0, 0), nt, tile, kP, accumulate);
    for (int64_t t = 0; t < nt; ++t)
      std::memcpy(y + (t0 + t) * ldy, tile + t * kP, sizeof(float) * size_t(n_rows));
  }
}

size_t panels_bytes() {
  return size_t(kQgemmStripRows / kP) * size_t(kQgemmKBlock / kQgemmBlock) * size_t(kMaxBlockBytes);
}

}  // namespace

bool has_qgemm(const KernelSet& ks, DType t) {
  return ks.qgemm_tile != nullptr && ks.qgemm_pack[static_cast<uint32_t>(t)] != nullptr;
}

size_t qgemm_act_bytes(int64_t n_tok, int64_t k) {
  const size_t n = size_t(n_tok), nb = size_t(k / kQgemmBlock);
  return align64(n * size_t(k)) + 3 * align64(n * nb * 4) + align64(n * nb * 8);
}

QActs qgemm_acts(const uint8_t* buf, int64_t n_tok, int64_t k) {
  const size_t nb = size_t(k / kQgemmBlock), per = align64(size_t(n_tok) * nb * 4);
  const uint8_t* d = buf + align64(size_t(n_tok * k));
  const uint8_t* c32 = d + per;
  const uint8_t* s = c32 + per;
  const uint8_t* c16 = s + per;
  return {reinterpret_cast<const int8_t*>(buf),  reinterpret_cast<const float*>(d),
          reinterpret_cast<const int32_t*>(c32), reinterpret_cast<const int32_t*>(c16),
          reinterpret_cast<const float*>(s),     k};
}

void qgemm_quantize(const KernelSet& ks, DType t, const float* x, int64_t n_tok, int64_t k,
                    int64_t t0, int64_t t1, uint8_t* buf, uint8_t* tmp) {
  const int64_t nb = k / kQgemmBlock;
  const QActs a = qgemm_acts(buf, n_tok, k);
  // The layout's own bytes, so writing through them is writing into buf.
  auto* q = const_cast<int8_t*>(a.q);
  auto* d = const_cast<float*>(a.d);
  auto* c32 = const_cast<int32_t*>(a.c32);
  auto* c16 = const_cast<int32_t*>(a.c16);
  auto* s = const_cast<float*>(a.s);
  const int32_t bias = qgemm_bias(t);
  const QuantizeRowFn quantize = ks.quantize_for(DType::Q8_0);
  for (int64_t r = t0; r < t1; ++r) {
    quantize(x + r * k, tmp, k);
    const auto* blocks = reinterpret_cast<const BlockQ8_0*>(tmp);
    for (int64_t b = 0; b < nb; ++b) {
      int32_t half[2] = {0, 0};
      for (int j = 0; j < 32; ++j) half[j / 16] += blocks[b].qs[j];
      std::memcpy(q + r * k + b * kQgemmBlock, blocks[b].qs, kQgemmBlock);
      const int64_t at = r * nb + b;
      d[at] = fp16_to_fp32(blocks[b].d);
      c32[at] = -bias * (half[0] + half[1]);
      c16[2 * at] = -bias * half[0];
      c16[2 * at + 1] = -bias * half[1];
      s[at] = float(half[0] + half[1]);
    }
  }
}

size_t qgemm_scratch_bytes() {
  return 64 + panels_bytes() + size_t(kEdgeTokens * kP) * sizeof(float);
}

void qgemm_rows(const KernelSet& ks, const TensorView& w, int64_t r0, int64_t r1, const QActs& a,
                int64_t n_tok, float* y, int64_t ldy, uint8_t* scratch) {
  const int64_t k = w.ne0;
  const TypeInfo& ti = type_info(w.type);
  const QgemmPackFn pack = ks.qgemm_pack[static_cast<uint32_t>(w.type)];
  const QgemmKind kind = qgemm_kind(w.type);
  const auto addr = reinterpret_cast<uintptr_t>(scratch);
  uint8_t* panels = scratch + ((addr + 63) / 64 * 64 - addr);
  auto* tile = reinterpret_cast<float*>(panels + panels_bytes());
  const int64_t strip = balanced(r1 - r0, kQgemmStripRows, kP);
  // k-ranges start at a block of the weight format (a super-block for the K-quants).
  const int64_t kblock = balanced(k, kQgemmKBlock, std::max<int64_t>(ti.block_size, kQgemmBlock));
  for (int64_t s0 = r0; s0 < r1; s0 += strip) {
    const int64_t n_rows = std::min(strip, r1 - s0);
    const int64_t n_full = n_rows / kP, n_panels = (n_rows + kP - 1) / kP;
    for (int64_t k0 = 0; k0 < k; k0 += kblock) {
      const int64_t kc = std::min(kblock, k - k0);
      const size_t panel_bytes = size_t(kc / kQgemmBlock) * size_t(qgemm_block_bytes(kind));
      const size_t offset = size_t(k0 / ti.block_size) * ti.type_size;
      for (int64_t p = 0; p < n_panels; ++p) {
        const int64_t first = s0 + p * kP;
        pack(static_cast<const uint8_t*>(w.row(first)) + offset, w.row_bytes,
             std::min(kP, s0 + n_rows - first), kc, panels + size_t(p) * panel_bytes);
      }
      const bool accumulate = k0 > 0;
      const QActs ak = a.at(0, k0 / kQgemmBlock);
      if (n_full > 0) ks.qgemm_tile(panels, n_full, kc, kind, ak, n_tok, y + s0, ldy, accumulate);
      if (n_full < n_panels) {
        edge_panel(ks, panels + size_t(n_full) * panel_bytes, n_rows - n_full * kP, kc, kind, ak,
                   n_tok, y + s0 + n_full * kP, ldy, accumulate, tile);
      }
    }
  }
}

}  // namespace minima
