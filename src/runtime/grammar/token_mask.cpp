#include "runtime/grammar/token_mask.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "runtime/tokenizer/tokenizer.hpp"

namespace minima::grammar {

TokenTrie::TokenTrie(const std::vector<std::string>& pieces, std::vector<int32_t> eog)
    : n_vocab_(static_cast<int64_t>(pieces.size())), eog_(std::move(eog)) {
  std::sort(eog_.begin(), eog_.end());
  // Tokens with bytes, sorted by their bytes: every trie node is then a contiguous range.
  std::vector<int32_t> ids;
  for (size_t t = 0; t < pieces.size(); ++t)
    if (!pieces[t].empty() && !std::binary_search(eog_.begin(), eog_.end(), int32_t(t)))
      ids.push_back(static_cast<int32_t>(t));
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    return pieces[size_t(a)] < pieces[size_t(b)] ||
           (pieces[size_t(a)] == pieces[size_t(b)] && a < b);
  });
  // Breadth-first: a node's children get consecutive indices. Queue entries: (node, range, depth).
  struct Item {
    uint32_t node;
    size_t lo, hi, depth;
  };
  nodes_.push_back({});
  std::vector<Item> queue{{0, 0, ids.size(), 0}};
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    const Item it = queue[qi];
    size_t i = it.lo;
    // Tokens whose bytes end at this depth come first in the sorted range.
    nodes_[it.node].first_token = static_cast<uint32_t>(tokens_.size());
    while (i < it.hi && pieces[size_t(ids[i])].size() == it.depth) tokens_.push_back(ids[i++]);
    nodes_[it.node].n_tokens = static_cast<uint32_t>(tokens_.size()) - nodes_[it.node].first_token;
    nodes_[it.node].first_child = static_cast<uint32_t>(nodes_.size());
    while (i < it.hi) {
      const auto b = static_cast<uint8_t>(pieces[size_t(ids[i])][it.depth]);
      size_t j = i;
      while (j < it.hi && static_cast<uint8_t>(pieces[size_t(ids[j])][it.depth]) == b) ++j;
      Node child;
      child.byte = b;
      const auto idx = static_cast<uint32_t>(nodes_.size());
      nodes_.push_back(child);
      queue.push_back({idx, i, j, it.depth + 1});
      i = j;
    }
    nodes_[it.node].n_children = static_cast<uint32_t>(nodes_.size()) - nodes_[it.node].first_child;
  }
}

TokenTrie TokenTrie::from_tokenizer(const Tokenizer& tok) {
  std::vector<std::string> pieces(static_cast<size_t>(tok.n_vocab()));
  std::vector<int32_t> eog;
  for (int32_t t = 0; t < tok.n_vocab(); ++t) {
    if (tok.is_eog(t)) {
      eog.push_back(t);
      continue;
    }
    tok.append_piece(t, false, pieces[size_t(t)]);
  }
  return TokenTrie(pieces, std::move(eog));
}

bool TokenTrie::is_eog(int32_t t) const {
  return std::binary_search(eog_.begin(), eog_.end(), t);
}

void TokenTrie::walk(Matcher& m, Matcher::State s, std::span<uint64_t> mask) const {
  std::fill(mask.begin(), mask.end(), 0);
  if (s == Matcher::kDead) return;
  const auto set = [&](int32_t t) { mask[size_t(t) >> 6] |= uint64_t{1} << (t & 63); };
  if (m.can_continue(s)) {
    auto& stack = m.walk_stack();
    stack.assign(1, {0u, s});
    while (!stack.empty()) {
      const auto [node, state] = stack.back();
      stack.pop_back();
      const Node& n = nodes_[node];
      for (uint32_t c = n.first_child; c < n.first_child + n.n_children; ++c) {
        const Matcher::State next = m.advance(state, nodes_[c].byte);
        if (next == Matcher::kDead) continue;
        const Node& cn = nodes_[c];
        for (uint32_t k = cn.first_token; k < cn.first_token + cn.n_tokens; ++k) set(tokens_[k]);
        if (cn.n_children > 0 && m.can_continue(next)) stack.push_back({c, next});
      }
    }
  }
  if (m.accepts(s))
    for (int32_t t : eog_) set(t);
}

void TokenTrie::allowed(Matcher& m, Matcher::State s, std::span<uint64_t> mask) const {
  if (s == Matcher::kDead) {
    std::fill(mask.begin(), mask.end(), 0);
    return;
  }
  std::vector<uint64_t>& slot = m.mask_slot(s);
  if (slot.size() == mask.size()) {
    std::copy(slot.begin(), slot.end(), mask.begin());
    return;
  }
  walk(m, s, mask);
  if (m.take_mask_budget(mask.size() * sizeof(uint64_t)))
    m.mask_slot(s).assign(mask.begin(), mask.end());  // walk() may have moved the states
}

}  // namespace minima::grammar
