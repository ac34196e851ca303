// Byte-level BPE training (`minima tokenizer-train`).
//
// Classic BPE over word counts (word_counts.hpp): every word starts as its bytes (tokens 0..255,
// in byte order), then the most frequent adjacent pair over all words, weighted by word count, is
// merged into a new token, again and again, until the vocabulary (special tokens included) has
// the requested size or no pair is seen min_frequency times. Ties go to the pair with the smaller
// left token id, then the smaller right id, so the result is a function of the corpus and the
// options only: same corpus, same bytes out, whatever the thread count.
//
// Each merge costs time in proportion to the words that contain the pair, not to the corpus: a
// pair → words index finds them, pair counts are updated only around each replaced occurrence,
// and a lazy max-heap (stale entries are skipped or re-queued when popped) finds the best pair.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "train/bpe_vocab.hpp"
#include "train/word_counts.hpp"

namespace minima::train {

struct BpeTrainOptions {
  int32_t vocab_size = 0;      // total, special tokens included; at least 256 + 3
  uint64_t min_frequency = 2;  // a pair seen fewer times (word counts included) is never merged
  int threads = 1;             // for counting words; the merges run on one thread
  std::string name = "minima-bpe";
};

// The smallest vocabulary size accepted: the byte tokens and the special tokens.
inline constexpr int32_t kMinBpeVocab = 256 + static_cast<int32_t>(kBpeSpecialTokens.size());

// Merges over given word counts. Error if the options are out of range.
BpeVocab train_bpe(const WordCounts& words, const BpeTrainOptions& opt);

// Counts the words of the corpus files and trains. Error naming the file for unreadable input,
// and when the corpus holds no text at all.
BpeVocab train_bpe_tokenizer(std::span<const std::filesystem::path> files,
                             const BpeTrainOptions& opt);

}  // namespace minima::train
