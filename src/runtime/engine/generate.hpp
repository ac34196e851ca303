// Single-sequence text generation: the loop behind `minima generate`. Everything it needs is
// allocated before the first token (session scratch, sampler buffers, the stop-string window),
// so the loop itself performs no heap allocation (tests/alloc/generate_alloc_test.cpp checks).
// The exception is constrained decoding: a grammar state met for the first time is built (and
// its mask cached) inside the loop; states met again cost no allocation.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/function_ref.hpp"
#include "model/forward.hpp"
#include "runtime/grammar/constraint.hpp"
#include "runtime/sample/sampler.hpp"
#include "runtime/tokenizer/tokenizer.hpp"

namespace minima {

struct GenerateOptions {
  int64_t n_predict = 128;        // tokens to generate at most
  std::vector<std::string> stop;  // stop strings (not included in the output)
  bool ignore_eos = false;        // keep going past end-of-generation tokens
  // Constrained decoding: every sampled token keeps the output a prefix of a sentence of the
  // grammar, and generation ends (finish "stop") once the output is complete and nothing may
  // follow, or the model ends it where the grammar allows. trie: the model's (built once).
  std::shared_ptr<const grammar::Grammar> grammar;
  const grammar::TokenTrie* trie = nullptr;
};

enum class FinishReason { Length, Stop, Eos, Cancelled };
std::string_view finish_reason_name(FinishReason r);

struct GenerateResult {
  int64_t n_prompt = 0;
  int64_t n_generated = 0;
  double prompt_seconds = 0;
  double gen_seconds = 0;
  double constraint_seconds = 0;  // of gen_seconds: token masks and grammar advances
  FinishReason finish = FinishReason::Length;
};

// Evaluates the prompt (appended to whatever the session holds), then samples up to n_predict
// tokens. on_text receives complete UTF-8 text as it becomes final (stop-string prefixes are held
// back until they are known not to be a stop); returning false cancels. on_token sees every
// sampled id (before the text it maps to is released).
GenerateResult generate(Session& session, const Tokenizer& tok, Sampler& sampler,
                        std::span<const int32_t> prompt, const GenerateOptions& opt,
                        FunctionRef<bool(std::string_view)> on_text,
                        FunctionRef<void(int32_t)> on_token);

}  // namespace minima
