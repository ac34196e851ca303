// Compiled grammars shared between requests: the same schema (or grammar text) compiles once and
// every request using it gets the same immutable Grammar, which also lets the engine share one
// matcher, and its warm states and masks, between those requests. Thread-safe (HTTP threads
// compile concurrently); least recently used entries go first.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "runtime/grammar/grammar.hpp"

namespace minima::grammar {

class GrammarCache {
 public:
  explicit GrammarCache(size_t capacity = 64) : capacity_(capacity) {}
  // The grammar of this text, compiled on first use. Throws GrammarError.
  std::shared_ptr<const Grammar> get(const std::string& text);
  size_t size() const;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const Grammar>>;
  size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace minima::grammar
