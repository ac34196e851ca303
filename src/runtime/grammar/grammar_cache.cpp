#include "runtime/grammar/grammar_cache.hpp"

namespace minima::grammar {

std::shared_ptr<const Grammar> GrammarCache::get(const std::string& text) {
  {
    const std::lock_guard lk(mu_);
    if (auto it = index_.find(text); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  // Compiled outside the lock: a slow grammar does not hold up other requests. Two threads
  // compiling the same text at once both succeed; the first stored wins.
  auto g = std::make_shared<const Grammar>(Grammar::parse(text));
  const std::lock_guard lk(mu_);
  if (auto it = index_.find(text); it != index_.end()) return it->second->second;
  lru_.emplace_front(text, g);
  index_.emplace(text, lru_.begin());
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return g;
}

size_t GrammarCache::size() const {
  const std::lock_guard lk(mu_);
  return lru_.size();
}

}  // namespace minima::grammar
