#include "runtime/engine/generate.hpp"

#include <algorithm>
#include <chrono>

#include "core/error.hpp"

namespace minima {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string: that much
// must be held back, because the next piece may complete the stop string.
size_t held_back(std::string_view text, const std::vector<std::string>& stops) {
  size_t keep = 0;
  for (const auto& s : stops) {
    for (size_t len = std::min(text.size(), s.size() - 1); len > keep; --len) {
      if (text.substr(text.size() - len) == std::string_view(s).substr(0, len)) {
        keep = len;
        break;
      }
    }
  }
  return keep;
}

}  // namespace

std::string_view finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::Length:
      return "length";
    case FinishReason::Stop:
      return "stop";
    case FinishReason::Eos:
      return "stop";
    case FinishReason::Cancelled:
      return "cancelled";
  }
  return "unknown";
}

GenerateResult generate(Session& session, const Tokenizer& tok, Sampler& sampler,
                        std::span<const int32_t> prompt, const GenerateOptions& opt,
                        FunctionRef<bool(std::string_view)> on_text,
                        FunctionRef<void(int32_t)> on_token) {
  GenerateResult res;
  res.n_prompt = static_cast<int64_t>(prompt.size());
  if (prompt.empty())
    fail(
        "the prompt is empty: nothing to continue from (the model adds no BOS token to an empty "
        "text)");
  if (session.n_past() + res.n_prompt + opt.n_predict > session.n_ctx())
    fail("prompt (", res.n_prompt, " tokens) + ", opt.n_predict,
         " new tokens exceed the context size ", session.n_ctx());
  for (const auto& s : opt.stop)
    if (s.empty()) fail("stop strings must not be empty");

  size_t max_stop = 0;
  for (const auto& s : opt.stop) max_stop = std::max(max_stop, s.size());
  // pending: text decoded but not yet released. It holds at most a stop-string prefix plus one
  // piece; reserve generously so appends never reallocate inside the loop.
  std::string pending;
  pending.reserve(max_stop + 4096);
  std::string piece;
  piece.reserve(4096);
  StreamDecoder dec(tok);

  const auto t0 = Clock::now();
  session.eval(prompt);
  res.prompt_seconds = seconds_since(t0);

  const auto t1 = Clock::now();
  for (int64_t i = 0; i < opt.n_predict; ++i) {
    const int32_t id = sampler.sample(session.last_logits());
    sampler.accept(id);
    ++res.n_generated;
    on_token(id);
    if (!opt.ignore_eos && tok.is_eog(id)) {
      res.finish = FinishReason::Eos;
      break;
    }
    piece.clear();
    dec.push(id, piece);
    pending += piece;
    if (!opt.stop.empty()) {
      size_t hit = std::string::npos;
      for (const auto& s : opt.stop) hit = std::min(hit, pending.find(s));
      if (hit != std::string::npos) {
        if (hit > 0 && !on_text(std::string_view(pending).substr(0, hit)))
          res.finish = FinishReason::Cancelled;
        else
          res.finish = FinishReason::Stop;
        pending.clear();
        break;
      }
    }
    const size_t keep = opt.stop.empty() ? 0 : held_back(pending, opt.stop);
    if (pending.size() > keep) {
      if (!on_text(std::string_view(pending).substr(0, pending.size() - keep))) {
        res.finish = FinishReason::Cancelled;
        pending.clear();
        break;
      }
      pending.erase(0, pending.size() - keep);
    }
    if (i + 1 < opt.n_predict) session.eval(std::span(&id, 1));
  }
  if (res.finish == FinishReason::Length || res.finish == FinishReason::Eos) {
    piece.clear();
    dec.flush(piece);
    pending += piece;
    if (!pending.empty()) on_text(pending);
  }
  res.gen_seconds = seconds_since(t1);
  return res;
}

}  // namespace minima
