#include "model/forward.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/error.hpp"

namespace minima {
namespace {
int64_t context_of(const Model& m, const SessionOptions& o) {
  return o.n_ctx > 0 ? o.n_ctx : m.hparams().n_ctx_train;
}
}  // namespace

Session::Session(const Model& model, const KernelSet& kernels, ThreadPool& pool, SessionOptions opt)
    : model_(model),
      opt_(opt),
      n_ctx_(context_of(model, opt)),
      kv_(model.hparams(), (context_of(model, opt) + kBlockSize - 1) / kBlockSize, kBlockSize),
      table_(static_cast<size_t>(kv_.n_blocks())),
      fwd_(model, kernels, pool, opt.n_batch, opt.exact),
      pos_(static_cast<size_t>(opt.n_batch)),
      seq_(static_cast<size_t>(opt.n_batch), 0),
      rows_(static_cast<size_t>(opt.n_batch)),
      logits_(static_cast<size_t>(model.hparams().n_vocab)) {
  std::iota(table_.begin(), table_.end(), 0);
}

void Session::eval(std::span<const int32_t> tokens, float* logits_out, bool decode) {
  const auto n = static_cast<int64_t>(tokens.size());
  if (n == 0) return;
  if (n_past_ + n > n_ctx_)
    fail("context is full: ", n_past_, " + ", n, " tokens exceed the context size ", n_ctx_);
  const int64_t V = model_.hparams().n_vocab;
  const SeqBlocks seq{table_.data(), kv_.n_blocks()};
  for (int64_t c0 = 0; c0 < n; c0 += opt_.n_batch) {
    const int64_t cn = std::min(opt_.n_batch, n - c0);
    const bool last_chunk = c0 + cn == n;
    for (int64_t i = 0; i < cn; ++i)
      pos_[static_cast<size_t>(i)] = static_cast<int32_t>(n_past_ + i);
    // Logits only where asked for: every row into logits_out, else only the very last row (the
    // vocabulary matmul is skipped for the rest of a prompt).
    size_t nl = 0;
    float* out = nullptr;
    if (logits_out) {
      for (int64_t i = 0; i < cn; ++i) rows_[static_cast<size_t>(i)] = static_cast<int32_t>(i);
      nl = static_cast<size_t>(cn);
      out = logits_out + c0 * V;
    } else if (last_chunk) {
      rows_[0] = static_cast<int32_t>(cn - 1);
      nl = 1;
      out = logits_.data();
    }
    Batch b;
    b.tokens = tokens.subspan(static_cast<size_t>(c0), static_cast<size_t>(cn));
    b.pos = std::span(pos_.data(), static_cast<size_t>(cn));
    b.seq = std::span(seq_.data(), static_cast<size_t>(cn));
    b.seqs = std::span(&seq, 1);
    b.logit_rows = std::span(rows_.data(), nl);
    b.n_decode = decode ? cn : 0;
    fwd_.run(b, kv_, out);
    n_past_ += cn;
  }
  if (logits_out)
    std::memcpy(logits_.data(), logits_out + (n - 1) * V, static_cast<size_t>(V) * sizeof(float));
}

}  // namespace minima
