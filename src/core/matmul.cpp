#include "core/matmul.hpp"

#include <algorithm>
#include <utility>

#include "core/error.hpp"
#include "core/gemm.hpp"
#include "core/gemv.hpp"
#include "core/qgemm.hpp"
#include "core/quant/quant.hpp"

namespace minima {

namespace {

// Thread ith's share of n_out prompt-path rows, in whole 16-row panels so its strips stay whole.
std::pair<int64_t, int64_t> panel_range(int64_t n_out, int ith, int nth) {
  const int64_t blocks = (n_out + 15) / 16;
  return {std::min(n_out, blocks * ith / nth * 16), std::min(n_out, blocks * (ith + 1) / nth * 16)};
}

// The decode rows' activations in the weights' vec_dot_type vt: x itself for F32, else x
// converted row by row (threads split the rows) into the scratch's activation buffer.
struct DecodeActs {
  const uint8_t* rows;
  size_t stride;  // bytes between rows
};

DecodeActs decode_acts(const KernelSet& ks, ThreadPool& pool, MatmulScratch& scratch, DType vt,
                       const float* x, int64_t n_tok, int64_t n_in) {
  if (vt == DType::F32)
    return {reinterpret_cast<const uint8_t*>(x), static_cast<size_t>(n_in) * sizeof(float)};
  const QuantizeRowFn q = ks.quantize_for(vt);
  const size_t stride = row_size(vt, n_in);
  uint8_t* buf = scratch.act().data();
  pool.parallel_for(n_tok, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) q(x + t * n_in, buf + static_cast<size_t>(t) * stride, n_in);
  });
  return {buf, stride};
}

// The prompt rows x: [n_pre, n_in] quantized for the integer GEMM of weights of type t (threads
// split the rows), in the scratch's activation buffer.
QActs quantize_prompt(const KernelSet& ks, ThreadPool& pool, MatmulScratch& scratch, DType t,
                      const float* x, int64_t n_pre, int64_t n_in) {
  uint8_t* buf = scratch.act().data();
  if (qgemm_act_bytes(n_pre, n_in) > scratch.act().size())
    fail("matmul: activation scratch too small for ", n_pre, " x ", n_in);
  pool.run([&](int ith, int nth) {
    qgemm_quantize(ks, t, x, n_pre, n_in, n_pre * ith / nth, n_pre * (ith + 1) / nth, buf,
                   scratch.q8_row(ith));
  });
  return qgemm_acts(buf, n_pre, n_in);
}

// y: [n_pre, w.ne1] = the quantized prompt rows times w, threads splitting the rows in whole
// 16-row panels.
void qgemm_rows_all(const KernelSet& ks, ThreadPool& pool, MatmulScratch& scratch,
                    const TensorView& w, const QActs& acts, int64_t n_pre, float* y) {
  const int64_t n_out = w.ne1;
  pool.run([&](int ith, int nth) {
    const auto [r0, r1] = panel_range(n_out, ith, nth);
    if (r0 < r1)
      qgemm_rows(ks, w, r0, r1, acts, n_pre, y, n_out,
                 reinterpret_cast<uint8_t*>(scratch.gemm_scratch(ith)));
  });
}

// Rows per chunk of a dynamically split GEMV: ~32 KiB of weights, so a claim (one uncontended
// compare-exchange) costs ~1% of streaming its chunk and the threads end within ~1 µs (one chunk
// at one core's bandwidth) of each other.
int64_t dyn_grain(const TensorView& w) {
  return std::max<int64_t>(1, static_cast<int64_t>((size_t{32} << 10) / w.row_bytes));
}

// One-token decode of weights ws sharing the activation act, rows split dynamically; false, with
// nothing done, where a weight's table has no DotRowsDynFn or the scratch has too few queues
// (the caller then splits statically).
bool gemv_dyn(const KernelSet& ks, ThreadPool& pool, MatmulScratch& scratch,
              std::span<const TensorView* const> ws, const uint8_t* act,
              std::span<float* const> ys) {
  if (ws.size() > scratch.n_queues()) return false;
  for (const TensorView* w : ws)
    if (ks.dot_rows_dyn[static_cast<uint32_t>(w->type)] == nullptr) return false;
  for (size_t i = 0; i < ws.size(); ++i)
    scratch.queue(i).reset(ws[i]->ne1, dyn_grain(*ws[i]), pool.size());
  pool.run([&](int ith, int) {
    for (size_t i = 0; i < ws.size(); ++i) {
      RowQueue::Taker rows(scratch.queue(i), ith);
      ks.dot_rows_dyn[static_cast<uint32_t>(ws[i]->type)](ws[i]->data, ws[i]->row_bytes, rows, act,
                                                          ws[i]->ne0, ys[i]);
    }
  });
  return true;
}

}  // namespace

MatmulScratch::MatmulScratch(int64_t max_in, int64_t max_tokens, int n_threads)
    : max_in_(max_in), max_tokens_(max_tokens) {
  // Widest activation row: F32 (4 bytes/elem) dominates every Q8 type, whose blocks are < 4
  // bytes per element, so 4 * max_in rounded up to a whole Q8_K block is enough for any type.
  const int64_t padded = (max_in + QK_K - 1) / QK_K * QK_K;
  act_.resize(static_cast<size_t>(max_tokens) * static_cast<size_t>(padded) * sizeof(float));
  exact_rows_.resize(static_cast<size_t>(n_threads) * static_cast<size_t>(max_in));
  // The F32 and the integer GEMM share the per-thread scratch.
  gemm_floats_ = std::max(static_cast<size_t>(gemm_scratch_floats(max_in)),
                          (qgemm_scratch_bytes() + sizeof(float) - 1) / sizeof(float));
  q8_row_bytes_ = row_size(DType::Q8_0, padded);
  q8_rows_.resize(static_cast<size_t>(n_threads) * q8_row_bytes_);
  gemm_.resize(static_cast<size_t>(n_threads) * gemm_floats_);
  queues_.reserve(kQueues);
  for (size_t i = 0; i < kQueues; ++i) queues_.emplace_back(n_threads);
}

void matmul(const KernelSet& ks, ThreadPool& pool, MatmulScratch& scratch, const TensorView& w,
            const float* x, int64_t n_tok, float* y, bool exact, int64_t n_decode) {
  const int64_t n_in = w.ne0, n_out = w.ne1;
  if (n_in > scratch.max_in() || n_tok > scratch.max_tokens())
    fail("matmul: scratch too small (", n_in, " x ", n_tok, " > ", scratch.max_in(), " x ",
         scratch.max_tokens(), ")");
  if (n_decode < 0 || n_decode > n_tok)
    fail("matmul: ", n_decode, " decode rows of a ", n_tok, "-row batch");

  if (exact) {
    pool.run([&](int ith, int nth) {
      float* wrow = scratch.exact_row(ith);
      const int64_t r0 = n_out * ith / nth, r1 = n_out * (ith + 1) / nth;
      for (int64_t r = r0; r < r1; ++r) {
        quant::dequantize_row_ref(w.type, w.row(r), wrow, n_in);
        for (int64_t t = 0; t < n_tok; ++t) {
          const float* xr = x + t * n_in;
          float s = 0.0f;
          for (int64_t i = 0; i < n_in; ++i) s += wrow[i] * xr[i];
          y[t * n_out + r] = s;
        }
      }
    });
    return;
  }

  if (n_decode < n_tok) {
    const int64_t n_pre = n_tok - n_decode;
    const float* xp = x + n_decode * n_in;
    float* yp = y + n_decode * n_out;
    if (has_qgemm(ks, w.type)) {
      // Integer path: the prompt rows are quantized once, then threads split the weight rows.
      qgemm_rows_all(ks, pool, scratch, w,
                     quantize_prompt(ks, pool, scratch, w.type, xp, n_pre, n_in), n_pre, yp);
    } else {
      pool.run([&](int ith, int nth) {
        const auto [r0, r1] = panel_range(n_out, ith, nth);
        if (r0 < r1) gemm_rows(ks, w, r0, r1, xp, n_pre, yp, n_out, scratch.gemm_scratch(ith));
      });
    }
  }
  if (n_decode == 0) return;
  n_tok = n_decode;

  const DecodeActs a =
      decode_acts(ks, pool, scratch, type_info(w.type).vec_dot_type, x, n_tok, n_in);
  const TensorView* const one_w[] = {&w};
  float* const one_y[] = {y};
  if (n_tok == 1 && gemv_dyn(ks, pool, scratch, one_w, a.rows, one_y)) return;
  pool.run([&](int ith, int nth) {
    const int64_t r0 = n_out * ith / nth, r1 = n_out * (ith + 1) / nth;
    if (r0 < r1) gemv_rows(ks, w, r0, r1, a.rows, a.stride, n_tok, y, n_out);
  });
}

void matmul_shared_input(const KernelSet& ks, ThreadPool& pool, MatmulScratch& scratch,
                         std::span<const TensorView* const> ws, const float* x, int64_t n_tok,
                         std::span<float* const> ys, bool exact, int64_t n_decode) {
  if (ws.size() != ys.size())
    fail("matmul_shared_input: ", ws.size(), " weights, ", ys.size(), " outputs");
  if (ws.empty()) return;
  const bool fits = ws[0]->ne0 <= scratch.max_in() && n_tok <= scratch.max_tokens();
  // All prompt rows, integer path for every weight with one code offset: one quantization.
  bool prompt = !exact && n_decode == 0 && fits;
  for (const TensorView* w : ws)
    prompt = prompt && has_qgemm(ks, w->type) && qgemm_bias(w->type) == qgemm_bias(ws[0]->type) &&
             w->ne0 == ws[0]->ne0;
  if (prompt) {
    const QActs acts = quantize_prompt(ks, pool, scratch, ws[0]->type, x, n_tok, ws[0]->ne0);
    for (size_t i = 0; i < ws.size(); ++i)
      qgemm_rows_all(ks, pool, scratch, *ws[i], acts, n_tok, ys[i]);
    return;
  }
  bool fused = !exact && n_decode == n_tok && fits;
  const DType vt = type_info(ws[0]->type).vec_dot_type;
  for (const TensorView* w : ws)
    fused = fused && w->ne0 == ws[0]->ne0 && type_info(w->type).vec_dot_type == vt;
  if (!fused) {
    for (size_t i = 0; i < ws.size(); ++i)
      matmul(ks, pool, scratch, *ws[i], x, n_tok, ys[i], exact, n_decode);
    return;
  }
  const DecodeActs a = decode_acts(ks, pool, scratch, vt, x, n_tok, ws[0]->ne0);
  if (n_tok == 1 && gemv_dyn(ks, pool, scratch, ws, a.rows, ys)) return;
  pool.run([&](int ith, int nth) {
    for (size_t i = 0; i < ws.size(); ++i) {
      const int64_t n_out = ws[i]->ne1;
      const int64_t r0 = n_out * ith / nth, r1 = n_out * (ith + 1) / nth;
      if (r0 < r1) gemv_rows(ks, *ws[i], r0, r1, a.rows, a.stride, n_tok, ys[i], n_out);
    }
  });
}

void dequantize_row(const KernelSet& ks, const TensorView& w, int64_t r, float* dst, bool exact) {
  if (exact) {
    quant::dequantize_row_ref(w.type, w.row(r), dst, w.ne0);
  } else {
    ks.dequantize_for(w.type)(w.row(r), dst, w.ne0);
  }
}

}  // namespace minima
