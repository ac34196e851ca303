// Token masks for constrained decoding: which tokens keep a grammar's output a valid prefix.
//
// The vocabulary's token bytes are arranged once in a trie (shared by every request on a model).
// A mask is one walk of the trie from the matcher's current state: a branch is followed while the
// bytes so far still lead somewhere (Matcher::advance, an array lookup once warm), and a token is
// allowed when its last byte leaves a live state. End-of-generation tokens are allowed exactly
// when the output so far is a complete sentence, and are then the only choice if nothing may
// follow. Masks are cached per matcher state, so a state met again (the inside of a long string,
// the next array element) costs one copy.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime/grammar/matcher.hpp"

namespace minima {
class Tokenizer;
}

namespace minima::grammar {

class TokenTrie {
 public:
  // pieces[t]: the bytes token t adds to the text ("" for tokens that never may be chosen under
  // a grammar: control and unused tokens); eog: the end-of-generation token ids.
  TokenTrie(const std::vector<std::string>& pieces, std::vector<int32_t> eog);
  // From a model's tokenizer: pieces without special rendering; eog = Tokenizer::is_eog.
  static TokenTrie from_tokenizer(const Tokenizer& tok);

  int64_t n_vocab() const { return n_vocab_; }
  size_t mask_words() const { return static_cast<size_t>((n_vocab_ + 63) / 64); }

  // mask (mask_words() words): bit t set iff token t may come next in state s.
  void allowed(Matcher& m, Matcher::State s, std::span<uint64_t> mask) const;
  // The same without the per-state cache (for tests and benchmarks of the walk itself).
  void walk(Matcher& m, Matcher::State s, std::span<uint64_t> mask) const;

  bool is_eog(int32_t t) const;

 private:
  struct Node {
    uint32_t first_child = 0, n_children = 0;  // children: nodes [first, first + n), by byte
    uint32_t first_token = 0, n_tokens = 0;    // tokens ending here: tokens_[first, first + n)
    uint8_t byte = 0;
  };
  int64_t n_vocab_;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::vector<int32_t> tokens_;
  std::vector<int32_t> eog_;
};

}  // namespace minima::grammar
