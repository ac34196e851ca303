#include "runtime/engine/generate.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include "core/error.hpp"
#include "runtime/engine/stop_matcher.hpp"

namespace minima {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
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

  // Everything the loop touches is allocated here: the stop window and the piece buffer.
  StopMatcher stops(opt.stop);
  std::string piece;
  piece.reserve(4096);
  StreamDecoder dec(tok);
  bool cancelled = false;
  auto release = [&](std::string_view text) {
    if (!cancelled && !on_text(text)) cancelled = true;
  };

  std::optional<grammar::Constraint> constraint;
  std::string bytes;
  if (opt.grammar) {
    if (opt.trie == nullptr || opt.trie->n_vocab() != tok.n_vocab())
      fail("generate: a grammar needs the model's token trie");
    constraint.emplace(std::make_shared<grammar::Matcher>(opt.grammar), *opt.trie);
  }

  const auto t0 = Clock::now();
  session.eval(prompt);
  res.prompt_seconds = seconds_since(t0);

  const auto t1 = Clock::now();
  for (int64_t i = 0; i < opt.n_predict; ++i) {
    std::span<const uint64_t> mask;
    if (constraint) {
      const auto m0 = Clock::now();
      mask = constraint->mask();
      res.constraint_seconds += seconds_since(m0);
    }
    const int32_t id = sampler.sample(session.last_logits(), mask);
    sampler.accept(id);
    ++res.n_generated;
    on_token(id);
    if ((!opt.ignore_eos || constraint) && tok.is_eog(id)) {
      res.finish = FinishReason::Eos;
      break;
    }
    piece.clear();
    dec.push(id, piece);
    if (stops.push(piece, release)) {
      res.finish = FinishReason::Stop;
      break;
    }
    if (constraint) {
      const auto a0 = Clock::now();
      bytes.clear();
      tok.append_piece(id, false, bytes);
      constraint->accept(bytes);
      res.constraint_seconds += seconds_since(a0);
      // The output is a whole sentence and nothing may follow: done (no need to sample an EOS).
      if (constraint->done()) {
        res.finish = FinishReason::Stop;
        break;
      }
    }
    if (cancelled) break;
    if (i + 1 < opt.n_predict) session.eval(std::span(&id, 1), nullptr, true);
  }
  if (res.finish != FinishReason::Stop && !cancelled) {
    piece.clear();
    dec.flush(piece);
    if (stops.push(piece, release)) {
      res.finish = FinishReason::Stop;
    } else {
      release(stops.tail());
    }
  }
  if (cancelled) res.finish = FinishReason::Cancelled;
  res.gen_seconds = seconds_since(t1);
  return res;
}

}  // namespace minima
