// One generating sequence under a grammar: what both generation loops (runtime/engine/generate
// and the batching engine) need from constrained decoding, in one place. The matcher may be
// shared with other sequences of the same grammar (one thread uses it at a time); the state, the
// mask buffer and, for a lazy grammar, the wait for its trigger are this sequence's own.
//
// Lazy grammar (tool_choice auto): until the output contains `trigger`, sampling is free (mask()
// is empty); the grammar then holds from the trigger's first byte on.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/grammar/matcher.hpp"
#include "runtime/grammar/token_mask.hpp"

namespace minima::grammar {

class Constraint {
 public:
  Constraint(std::shared_ptr<Matcher> matcher, const TokenTrie& trie, std::string trigger = {});

  // The tokens allowed next (TokenTrie::allowed), or an empty span while waiting for a trigger.
  std::span<const uint64_t> mask();
  // Records the bytes of a sampled token (not an end-of-generation token).
  void accept(std::string_view bytes);
  // The output is a complete sentence that nothing may extend; or the token that completed a
  // lazy trigger also carried bytes the grammar refuses. Either way the sequence is over.
  bool done() const;

 private:
  std::shared_ptr<Matcher> m_;
  const TokenTrie* trie_;
  std::string trigger_;
  Matcher::State state_;
  std::vector<uint64_t> mask_;
  bool armed_;
  std::string tail_;  // while armed: the output's last bytes (to find the trigger)
};

}  // namespace minima::grammar
