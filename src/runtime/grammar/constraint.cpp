#include "runtime/grammar/constraint.hpp"

namespace minima::grammar {

Constraint::Constraint(std::shared_ptr<Matcher> matcher, const TokenTrie& trie, std::string trigger)
    : m_(std::move(matcher)),
      trie_(&trie),
      trigger_(std::move(trigger)),
      state_(m_->initial()),
      mask_(trie.mask_words()),
      armed_(!trigger_.empty()) {}

std::span<const uint64_t> Constraint::mask() {
  if (armed_) return {};
  trie_->allowed(*m_, state_, mask_);
  return mask_;
}

void Constraint::accept(std::string_view bytes) {
  if (!armed_) {
    state_ = m_->advance(state_, bytes);
    return;
  }
  tail_ += bytes;
  const size_t at = tail_.find(trigger_);
  if (at != std::string::npos) {
    armed_ = false;
    state_ = m_->advance(m_->initial(), std::string_view(tail_).substr(at));
    tail_.clear();
  } else if (tail_.size() >= trigger_.size()) {
    tail_.erase(0, tail_.size() - (trigger_.size() - 1));
  }
}

bool Constraint::done() const {
  return !armed_ &&
         (state_ == Matcher::kDead || (m_->accepts(state_) && !m_->can_continue(state_)));
}

}  // namespace minima::grammar
