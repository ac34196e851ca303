// Pre-token ("word") frequencies of a corpus: the input of BPE training.
//
// Text is split exactly as the trained tokenizer will split it when encoding with parse_special:
// the special-token texts (kBpeSpecialTokens) are cut out first, so they never take part in a
// merge, then each piece goes through the "qwen2" regex pre-tokenizer. Words are counted as raw
// bytes (not yet byte-level text).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace minima::tok {
class PreTokenizer;
}

namespace minima::train {

// Sorted by bytes, so the list (and anything computed from it) does not depend on the order in
// which threads met the words.
using WordCounts = std::vector<std::pair<std::string, uint64_t>>;

class WordCounter {
 public:
  WordCounter();
  ~WordCounter();
  WordCounter(const WordCounter&) = delete;
  WordCounter& operator=(const WordCounter&) = delete;

  // Counts the words of one document. Safe to call from one thread at a time.
  void add_text(std::string_view text);
  // Adds another counter's words into this one (the other is left empty).
  void merge_from(WordCounter& other);
  // The counts, sorted by bytes (the counter is left empty).
  WordCounts take_sorted();

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unique_ptr<tok::PreTokenizer> pre_;
  std::unordered_map<std::string, uint64_t, Hash, std::equal_to<>> counts_;
  std::vector<std::pair<size_t, size_t>> spans_;  // scratch for the pre-tokenizer's output
};

// Counts the words of every document of the files (corpus.hpp), in `threads` threads. The
// result does not depend on the thread count. Error naming the file for unreadable input.
WordCounts count_corpus_words(std::span<const std::filesystem::path> files, int threads);

}  // namespace minima::train
