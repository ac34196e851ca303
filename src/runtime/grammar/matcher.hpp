// Incremental recognition of a Grammar's sentences, one byte at a time.
//
// A parse position is a stack: the element to match next and, below it, where to continue when
// the current rule's alternative ends. Stacks are hash-consed linked lists (a node is (position,
// parent)), and after every byte the set of live stacks is expanded until each top is a byte set
// (rule references open their alternatives; a finished alternative returns to its parent). A
// reference in tail position does not push a return node (the alternative would only end there),
// so right-recursive repetition keeps stacks flat. Sets of stacks are interned as states, and each
// state keeps a 256-entry transition table filled on demand: after warm-up, advancing is an array
// lookup, which is what makes a token mask (core of constrained decoding) cheap.
//
// Thread-compatibility: one Matcher per generating sequence, used by one thread at a time. The
// Grammar it reads is immutable and may be shared.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/grammar/grammar.hpp"

namespace minima::grammar {

class Matcher {
 public:
  using State = uint32_t;
  static constexpr State kDead = UINT32_MAX;  // no sentence has the bytes so far as a prefix

  explicit Matcher(std::shared_ptr<const Grammar> g);

  State initial() const { return initial_; }
  State advance(State s, uint8_t byte);
  State advance(State s, std::string_view bytes);  // kDead as soon as a byte fails
  bool accepts(State s) const { return s != kDead && states_[s].accept; }  // complete sentence
  bool can_continue(State s) const { return s != kDead && !states_[s].tops.empty(); }
  bool matches(std::string_view text) { return accepts(advance(initial_, text)); }

  const Grammar& grammar() const { return *g_; }
  size_t n_states() const { return states_.size(); }

  // Per-state storage for the token masker (token_mask.hpp): empty until it fills it. Cached
  // masks are bounded (kMaskBudget bytes per matcher; past it masks are recomputed each time).
  std::vector<uint64_t>& mask_slot(State s) { return states_[s].mask; }
  bool take_mask_budget(size_t bytes) {
    if (mask_bytes_ + bytes > kMaskBudget) return false;
    mask_bytes_ += bytes;
    return true;
  }
  static constexpr size_t kMaskBudget = size_t{64} << 20;
  // The token masker's walk stack of (trie node, state), reused so a walk allocates nothing.
  std::vector<std::pair<uint32_t, State>>& walk_stack() { return walk_stack_; }

 private:
  static constexpr uint32_t kNoParent = UINT32_MAX;
  static constexpr uint32_t kUnknown = UINT32_MAX - 1;
  struct Node {
    uint32_t pos, parent;
  };
  struct StateData {
    std::vector<uint32_t> tops;  // node ids whose element is a byte set, sorted, unique
    bool accept = false;
    std::unique_ptr<std::array<uint32_t, 256>> next;
    std::vector<uint64_t> mask;
  };

  uint32_t node(uint32_t pos, uint32_t parent);
  void close(uint32_t pos, uint32_t parent, std::vector<uint32_t>& tops, bool& accept);
  State intern(std::vector<uint32_t>& tops, bool accept);

  std::shared_ptr<const Grammar> g_;
  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, uint32_t> node_ids_;
  std::vector<StateData> states_;
  std::unordered_map<std::string, State> state_ids_;
  std::vector<uint32_t> scratch_;
  std::vector<uint32_t> seen_epoch_;  // per node: the closure (epoch) that last visited it
  uint32_t epoch_ = 0;
  State initial_ = kDead;
  size_t mask_bytes_ = 0;
  std::vector<std::pair<uint32_t, State>> walk_stack_;
};

}  // namespace minima::grammar
