#include "runtime/eval/text_eval.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "core/error.hpp"
#include "model/forward.hpp"

namespace minima {
namespace {

// log Σ exp z over the vocabulary, computed stably.
double log_sum_exp(const float* z, int64_t v) {
  double mx = z[0], s = 0;
  for (int64_t i = 1; i < v; ++i) mx = std::max(mx, double(z[i]));
  for (int64_t i = 0; i < v; ++i) s += std::exp(double(z[i]) - mx);
  return mx + std::log(s);
}

}  // namespace

TextEval evaluate_text(const Model& model, const Model* base, std::span<const int32_t> ids,
                       const TextEvalOptions& opt, const KernelSet& ks, ThreadPool& pool) {
  const int64_t ctx = opt.ctx, v = model.hparams().n_vocab;
  if (ctx < 2) fail("evaluation window of ", ctx, " tokens: at least 2 are needed");
  TextEval r;
  r.windows = std::min<int64_t>(int64_t(ids.size()) / ctx, opt.max_windows);
  if (r.windows < 1) fail("the text is ", ids.size(), " tokens, fewer than one window of ", ctx);
  if (base != nullptr && base->hparams().n_vocab != v)
    fail("the base model has a vocabulary of ", base->hparams().n_vocab, " tokens, the model ", v,
         ": their distributions cannot be compared");
  const int64_t first = opt.all_positions ? 0 : ctx / 2;

  SessionOptions so;
  so.n_ctx = ctx;
  Session session(model, ks, pool, so);
  session.set_observer(opt.observer);
  std::optional<Session> base_session;
  if (base != nullptr) base_session.emplace(*base, ks, pool, so);
  std::vector<float> logits(size_t(ctx * v)), base_logits(base ? size_t(ctx * v) : 0);
  std::vector<int32_t> window(static_cast<size_t>(ctx));
  std::vector<double> kls;
  if (base != nullptr) kls.reserve(size_t(r.windows * (ctx - 1 - first)));
  double nll = 0, base_nll = 0;
  int64_t agree = 0, hits = 0, base_hits = 0;
  for (int64_t w = 0; w < r.windows; ++w) {
    std::copy(ids.begin() + w * ctx, ids.begin() + (w + 1) * ctx, window.begin());
    if (opt.bos >= 0) window[0] = opt.bos;
    session.reset();
    session.eval(window, logits.data());
    if (base != nullptr) {
      base_session->reset();
      base_session->eval(window, base_logits.data());
    }
    // The window's last position has no next token inside the window.
    for (int64_t j = first; j + 1 < ctx; ++j) {
      const float* z = &logits[size_t(j * v)];
      const double lz = log_sum_exp(z, v);
      const int32_t next = window[size_t(j + 1)];
      nll += lz - double(z[next]);
      const int64_t top = std::max_element(z, z + v) - z;
      hits += top == next;
      ++r.scored;
      if (base == nullptr) continue;
      const float* zb = &base_logits[size_t(j * v)];
      const double lzb = log_sum_exp(zb, v);
      base_nll += lzb - double(zb[window[size_t(j + 1)]]);
      double kl = 0;
      for (int64_t i = 0; i < v; ++i) {
        const double lpb = double(zb[i]) - lzb;
        kl += std::exp(lpb) * (lpb - (double(z[i]) - lz));
      }
      kls.push_back(std::max(kl, 0.0));
      const int64_t base_top = std::max_element(zb, zb + v) - zb;
      agree += top == base_top;
      base_hits += base_top == next;
    }
    if (opt.progress) opt.progress(w + 1, std::exp(nll / double(r.scored)));
  }
  r.mean_nll = nll / double(r.scored);
  r.perplexity = std::exp(r.mean_nll);
  r.accuracy = double(hits) / double(r.scored);
  if (base != nullptr) {
    r.has_base = true;
    r.base_perplexity = std::exp(base_nll / double(r.scored));
    r.base_accuracy = double(base_hits) / double(r.scored);
    for (double k : kls) r.kl_mean += k / double(kls.size());
    std::sort(kls.begin(), kls.end());
    auto pct = [&](double q) { return kls[size_t(q * double(kls.size() - 1) + 0.5)]; };
    r.kl_median = pct(0.5);
    r.kl_p99 = pct(0.99);
    r.kl_max = kls.back();
    r.top1_agreement = double(agree) / double(r.scored);
  }
  return r;
}

}  // namespace minima
