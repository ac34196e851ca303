#include <algorithm>
#include <string>

#include "runtime/tokenizer/encoders.hpp"
#include "runtime/tokenizer/utf8.hpp"

namespace minima::tok {

namespace {

struct Symbol {
  TokenId id;  // -1: a byte whose byte-level character is not a token (never merges)
  int32_t prev, next;
  bool alive;
  unsigned char byte;  // the first byte it covers (used only when id < 0)
};

struct Candidate {
  int32_t rank;
  int32_t left, right;
  TokenId left_id, right_id;  // ids when queued: a mismatch later means the pair is stale
};

// Priority: lowest rank first, then the leftmost pair.
struct Later {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

class WordMerger {
 public:
  explicit WordMerger(const Vocab& v) : v_(v) {}

  void encode(std::string_view word, std::vector<TokenId>& out) {
    if (v_.ignore_merges) {
      enc_.clear();
      v_.byte_level.encode(word, enc_);
      const TokenId whole = v_.lookup(enc_);
      if (whole >= 0) {
        out.push_back(whole);
        return;
      }
    }
    sym_.clear();
    for (size_t i = 0; i < word.size(); ++i) {
      const auto b = static_cast<unsigned char>(word[i]);
      const auto n = static_cast<int32_t>(i);
      sym_.push_back({v_.byte_level_token[b], n - 1, i + 1 == word.size() ? -1 : n + 1, true, b});
    }
    heap_.clear();
    for (int32_t i = 1; i < static_cast<int32_t>(sym_.size()); ++i) try_pair(i - 1, i);
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      const Candidate c = heap_.back();
      heap_.pop_back();
      Symbol& l = sym_[c.left];
      Symbol& r = sym_[c.right];
      if (!l.alive || !r.alive || l.id != c.left_id || r.id != c.right_id) continue;
      l.id = v_.merges.find(l.id, r.id)->merged;
      r.alive = false;
      l.next = r.next;
      if (r.next >= 0) sym_[r.next].prev = c.left;
      try_pair(l.prev, c.left);
      try_pair(c.left, l.next);
    }
    for (int32_t i = sym_.empty() ? -1 : 0; i >= 0; i = sym_[i].next) {
      const Symbol& s = sym_[i];
      if (s.id >= 0) {
        out.push_back(s.id);
        continue;
      }
      // llama.cpp's fallback: the single bytes of the character's text, where they are tokens.
      for (const char c : v_.byte_level.encode(s.byte)) {
        const TokenId t = v_.lookup(std::string_view(&c, 1));
        if (t >= 0) out.push_back(t);
      }
    }
  }

 private:
  void try_pair(int32_t l, int32_t r) {
    if (l < 0 || r < 0 || sym_[l].id < 0 || sym_[r].id < 0) return;
    const MergeTable::Entry* e = v_.merges.find(sym_[l].id, sym_[r].id);
    if (e == nullptr) return;
    heap_.push_back({e->rank, l, r, sym_[l].id, sym_[r].id});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }

  const Vocab& v_;
  std::string enc_;
  std::vector<Symbol> sym_;
  std::vector<Candidate> heap_;  // binary heap ordered by Later, reused across words
};

}  // namespace

void bpe_encode(const Vocab& v, std::string_view text, std::vector<TokenId>& out) {
  const bool valid = utf8::is_valid(text);
  std::string fixed;
  if (!valid) fixed = utf8::sanitize(text);
  const std::string_view clean = valid ? text : std::string_view(fixed);

  std::vector<std::pair<size_t, size_t>> words;
  v.pre->split(clean, words);
  WordMerger merger(v);
  for (const auto& [b, e] : words) merger.encode(clean.substr(b, e - b), out);
}

}  // namespace minima::tok
