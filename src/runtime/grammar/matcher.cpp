#include "runtime/grammar/matcher.hpp"

#include <algorithm>
#include <cstring>

namespace minima::grammar {

Matcher::Matcher(std::shared_ptr<const Grammar> g) : g_(std::move(g)) {
  std::vector<uint32_t> tops;
  bool accept = false;
  ++epoch_;
  for (uint32_t alt : g_->alternatives(g_->root())) close(alt, kNoParent, tops, accept);
  initial_ = intern(tops, accept);
}

uint32_t Matcher::node(uint32_t pos, uint32_t parent) {
  const uint64_t key = uint64_t{pos} << 32 | parent;
  const auto [it, fresh] = node_ids_.emplace(key, static_cast<uint32_t>(nodes_.size()));
  if (fresh) {
    nodes_.push_back({pos, parent});
    seen_epoch_.push_back(0);
  }
  return it->second;
}

// Expands the stack (pos, parent) until its top is a byte set, adding those tops to `tops`.
void Matcher::close(uint32_t pos, uint32_t parent, std::vector<uint32_t>& tops, bool& accept) {
  for (;;) {
    const Elem& e = g_->elem(pos);
    if (e.kind == Elem::Kind::Bytes) {
      const uint32_t id = node(pos, parent);
      if (seen_epoch_[id] != epoch_) {
        seen_epoch_[id] = epoch_;
        tops.push_back(id);
      }
      return;
    }
    if (e.kind == Elem::Kind::End) {
      if (parent == kNoParent) {
        accept = true;
        return;
      }
      const Node p = nodes_[parent];
      pos = p.pos;
      parent = p.parent;
      continue;
    }
    // A rule reference: continue after it when its alternative ends (unless that is the end of
    // this alternative too: then return straight to our parent, a tail call).
    const bool tail = g_->elem(pos + 1).kind == Elem::Kind::End;
    const uint32_t ret = tail ? parent : node(pos + 1, parent);
    // Expanding the same reference with the same return twice in one closure adds nothing. The
    // node (pos, ret) marks it (if it also serves as a return node, that is the same continuation).
    const uint32_t mark = node(pos, ret);
    if (seen_epoch_[mark] == epoch_) return;
    seen_epoch_[mark] = epoch_;
    const auto alts = g_->alternatives(e.arg);
    for (size_t k = 0; k + 1 < alts.size(); ++k) close(alts[k], ret, tops, accept);
    pos = alts.back();
    parent = ret;
  }
}

Matcher::State Matcher::intern(std::vector<uint32_t>& tops, bool accept) {
  if (tops.empty() && !accept) return kDead;
  std::sort(tops.begin(), tops.end());
  std::string key(tops.size() * 4 + 1, '\0');
  if (!tops.empty()) std::memcpy(key.data(), tops.data(), tops.size() * 4);
  key.back() = accept ? 1 : 0;
  const auto [it, fresh] = state_ids_.emplace(std::move(key), static_cast<State>(states_.size()));
  if (fresh) {
    StateData d;
    d.tops = tops;
    d.accept = accept;
    states_.push_back(std::move(d));
  }
  return it->second;
}

Matcher::State Matcher::advance(State s, uint8_t byte) {
  if (s == kDead) return kDead;
  StateData* d = &states_[s];
  if (d->next && (*d->next)[byte] != kUnknown) return (*d->next)[byte];
  std::vector<uint32_t> tops;
  bool accept = false;
  ++epoch_;
  // Copy: close() may grow nodes_ and states_ may move when interning.
  scratch_ = d->tops;
  for (uint32_t id : scratch_) {
    const Node n = nodes_[id];
    if (g_->set(g_->elem(n.pos).arg).has(byte)) close(n.pos + 1, n.parent, tops, accept);
  }
  const State r = intern(tops, accept);
  d = &states_[s];
  if (!d->next) {
    d->next = std::make_unique<std::array<uint32_t, 256>>();
    d->next->fill(kUnknown);
  }
  (*d->next)[byte] = r;
  return r;
}

Matcher::State Matcher::advance(State s, std::string_view bytes) {
  for (const char c : bytes) {
    s = advance(s, static_cast<uint8_t>(c));
    if (s == kDead) return kDead;
  }
  return s;
}

}  // namespace minima::grammar
