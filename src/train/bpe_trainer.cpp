#include "train/bpe_trainer.hpp"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include "core/error.hpp"
#include "runtime/tokenizer/byte_level.hpp"

namespace minima::train {

namespace {

struct HeapEntry {
  int64_t count;
  int32_t left, right;
  uint32_t pair;
};

// std::priority_queue keeps the greatest on top: the highest count, then the smallest left id,
// then the smallest right id. Total on (count, left, right), so the top never depends on the
// order of insertion.
struct HeapOrder {
  bool operator()(const HeapEntry& x, const HeapEntry& y) const {
    if (x.count != y.count) return x.count < y.count;
    if (x.left != y.left) return x.left > y.left;
    return x.right > y.right;
  }
};

uint64_t pair_key(int32_t a, int32_t b) {
  return uint64_t{static_cast<uint32_t>(a)} << 32 | static_cast<uint32_t>(b);
}

class Trainer {
 public:
  Trainer(const WordCounts& words, const BpeTrainOptions& opt);
  BpeVocab run();

 private:
  uint32_t pair_id(int32_t a, int32_t b);
  void add_pair(uint32_t word, int32_t a, int32_t b, int64_t n);
  void remove_pair(int32_t a, int32_t b, int64_t n);
  void queue_raised();
  bool pop_best(HeapEntry& best);
  int32_t token_for(int32_t a, int32_t b);
  void merge_in_word(uint32_t w, int32_t a, int32_t b, int32_t c);

  const BpeTrainOptions& opt_;

  // Words: word w's current symbols are syms_[begin_[w], begin_[w] + len_[w]) (they shrink in
  // place as merges apply); count_[w] is how often the word occurs in the corpus.
  std::vector<int32_t> syms_;
  std::vector<uint64_t> begin_;
  std::vector<uint32_t> len_;
  std::vector<int64_t> count_;

  // Pairs by dense id. words_ lists words that contained the pair when it was last counted up;
  // entries go stale when a merge removes the pair from a word and are skipped when scanned.
  std::unordered_map<uint64_t, uint32_t> pair_index_;
  std::vector<uint64_t> pair_keys_;  // (left << 32 | right) by id
  std::vector<int64_t> pair_count_;
  std::vector<std::vector<uint32_t>> pair_words_;
  std::vector<uint8_t> merged_;  // the pair has been merged (its merge line is written)
  // Pairs whose count went up during the current merge: they get a fresh heap entry after it.
  std::vector<uint32_t> raised_;
  std::vector<uint8_t> is_raised_;
  // Invariant: every pair with a positive count has a heap entry with a count at least as high.
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, HeapOrder> heap_;

  std::vector<std::string> text_;  // byte-level text by token id
  std::unordered_map<std::string, int32_t> by_text_;
  std::vector<std::string> merges_;
  std::vector<uint32_t> new_pos_;  // scratch: where the merged token landed in a word
};

Trainer::Trainer(const WordCounts& words, const BpeTrainOptions& opt) : opt_(opt) {
  const tok::ByteLevel bl;
  for (int b = 0; b < 256; ++b) {
    text_.emplace_back(bl.encode(static_cast<unsigned char>(b)));
    by_text_.emplace(text_.back(), b);
  }
  // Words are indexed by uint32 in the pair → words lists.
  if (words.size() >= UINT32_MAX) fail("BPE training: ", words.size(), " distinct words, too many");
  size_t total = 0;
  for (const auto& [w, n] : words) total += w.size();
  syms_.reserve(total);
  begin_.reserve(words.size());
  len_.reserve(words.size());
  count_.reserve(words.size());
  for (const auto& [w, n] : words) {
    if (w.size() > UINT32_MAX) fail("BPE training: a word of ", w.size(), " bytes is too long");
    begin_.push_back(syms_.size());
    len_.push_back(static_cast<uint32_t>(w.size()));
    count_.push_back(static_cast<int64_t>(n));
    for (const char ch : w) syms_.push_back(static_cast<unsigned char>(ch));
  }
  for (uint32_t w = 0; w < begin_.size(); ++w) {
    const int32_t* s = &syms_[begin_[w]];
    for (uint32_t i = 0; i + 1 < len_[w]; ++i) add_pair(w, s[i], s[i + 1], count_[w]);
  }
  queue_raised();
}

uint32_t Trainer::pair_id(int32_t a, int32_t b) {
  const auto [it, inserted] =
      pair_index_.try_emplace(pair_key(a, b), static_cast<uint32_t>(pair_count_.size()));
  if (inserted) {
    pair_count_.push_back(0);
    pair_words_.emplace_back();
    pair_keys_.push_back(pair_key(a, b));
    merged_.push_back(0);
    is_raised_.push_back(0);
  }
  return it->second;
}

void Trainer::add_pair(uint32_t word, int32_t a, int32_t b, int64_t n) {
  const uint32_t p = pair_id(a, b);
  pair_count_[p] += n;
  std::vector<uint32_t>& ws = pair_words_[p];
  if (ws.empty() || ws.back() != word) ws.push_back(word);
  if (!is_raised_[p]) {
    is_raised_[p] = 1;
    raised_.push_back(p);
  }
}

void Trainer::remove_pair(int32_t a, int32_t b, int64_t n) {
  const auto it = pair_index_.find(pair_key(a, b));
  if (it == pair_index_.end() || pair_count_[it->second] < n) {
    fail("BPE training: internal error: pair count of (", a, ", ", b, ") would go negative");
  }
  pair_count_[it->second] -= n;
}

void Trainer::queue_raised() {
  for (const uint32_t p : raised_) {
    is_raised_[p] = 0;
    if (pair_count_[p] <= 0) continue;
    const uint64_t key = pair_keys_[p];
    heap_.push({pair_count_[p], static_cast<int32_t>(key >> 32),
                static_cast<int32_t>(key & 0xFFFFFFFFu), p});
  }
  raised_.clear();
}

bool Trainer::pop_best(HeapEntry& best) {
  while (!heap_.empty()) {
    const HeapEntry e = heap_.top();
    heap_.pop();
    const int64_t now = pair_count_[e.pair];
    if (now == e.count) {
      best = e;
      return true;
    }
    if (now > 0) heap_.push({now, e.left, e.right, e.pair});
  }
  return false;
}

int32_t Trainer::token_for(int32_t a, int32_t b) {
  std::string joined = text_[static_cast<size_t>(a)] + text_[static_cast<size_t>(b)];
  // Two different pairs can spell the same text ("ab"+"c", "a"+"bc"): they share one token, as
  // token texts must be unique.
  const auto [it, inserted] = by_text_.try_emplace(joined, static_cast<int32_t>(text_.size()));
  if (inserted) text_.push_back(std::move(joined));
  return it->second;
}

// Replaces every occurrence of (a, b) in word w by c, left to right (so "a a a" with a == b
// becomes "c a"), and updates the pair counts: only the pairs that touch a replaced occurrence
// change, so the update costs O(occurrences) hash operations, not O(word length).
void Trainer::merge_in_word(uint32_t w, int32_t a, int32_t b, int32_t c) {
  int32_t* s = &syms_[begin_[w]];
  const uint32_t n = len_[w];
  const int64_t cnt = count_[w];
  // Old pairs (s[j], s[j+1]) for j in {i-1, i, i+1} of each occurrence i; consecutive
  // occurrences share a j, hence `done` (js only increase).
  int64_t done = -1;
  bool found = false;
  for (uint32_t i = 0; i + 1 < n;) {
    if (s[i] != a || s[i + 1] != b) {
      ++i;
      continue;
    }
    found = true;
    for (int64_t j = int64_t{i} - 1; j <= int64_t{i} + 1; ++j) {
      if (j < 0 || j + 1 >= n || j <= done) continue;
      remove_pair(s[j], s[j + 1], cnt);
      done = j;
    }
    i += 2;
  }
  if (!found) return;  // a stale entry of the pair's word list

  new_pos_.clear();
  uint32_t out = 0;
  for (uint32_t i = 0; i < n;) {
    if (i + 1 < n && s[i] == a && s[i + 1] == b) {
      new_pos_.push_back(out);
      s[out++] = c;
      i += 2;
    } else {
      s[out++] = s[i++];
    }
  }
  len_[w] = out;

  done = -1;
  for (const uint32_t k : new_pos_) {
    for (int64_t j = int64_t{k} - 1; j <= int64_t{k}; ++j) {
      if (j < 0 || j + 1 >= out || j <= done) continue;
      add_pair(w, s[j], s[j + 1], cnt);
      done = j;
    }
  }
}

BpeVocab Trainer::run() {
  const auto target = static_cast<size_t>(opt_.vocab_size) - kBpeSpecialTokens.size();
  const auto min_count = static_cast<int64_t>(std::max<uint64_t>(opt_.min_frequency, 1));
  std::vector<uint32_t> words;
  HeapEntry best{};
  while (text_.size() < target && pop_best(best) && best.count >= min_count) {
    const int32_t a = best.left, b = best.right;
    const int32_t c = token_for(a, b);
    // A pair can only come back after a merge whose text already existed; its rank stays the
    // first one (that is the rank the encoder applies).
    if (!merged_[best.pair]) {
      merged_[best.pair] = 1;
      merges_.push_back(text_[static_cast<size_t>(a)] + " " + text_[static_cast<size_t>(b)]);
    }
    words.clear();
    words.swap(pair_words_[best.pair]);
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    for (const uint32_t w : words) merge_in_word(w, a, b, c);
    queue_raised();
  }
  BpeVocab v;
  v.name = opt_.name;
  v.tokens = std::move(text_);
  v.token_types.assign(v.tokens.size(), 1);
  v.merges = std::move(merges_);
  append_bpe_specials(v);
  return v;
}

}  // namespace

BpeVocab train_bpe(const WordCounts& words, const BpeTrainOptions& opt) {
  if (opt.vocab_size < kMinBpeVocab) {
    fail("BPE training: vocabulary size ", opt.vocab_size, " is below the minimum ", kMinBpeVocab,
         " (256 byte tokens + ", kBpeSpecialTokens.size(), " special tokens)");
  }
  Trainer t(words, opt);
  return t.run();
}

BpeVocab train_bpe_tokenizer(std::span<const std::filesystem::path> files,
                             const BpeTrainOptions& opt) {
  if (opt.vocab_size < kMinBpeVocab) {
    fail("BPE training: vocabulary size ", opt.vocab_size, " is below the minimum ", kMinBpeVocab,
         " (256 byte tokens + ", kBpeSpecialTokens.size(), " special tokens)");
  }
  if (files.empty()) fail("BPE training: no corpus files given");
  const WordCounts words = count_corpus_words(files, opt.threads);
  if (words.empty()) fail("BPE training: the corpus files hold no text");
  return train_bpe(words, opt);
}

}  // namespace minima::train
