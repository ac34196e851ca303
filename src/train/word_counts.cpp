#include "train/word_counts.hpp"

#include <algorithm>
#include <exception>

#include "core/error.hpp"
#include "core/threads.hpp"
#include "runtime/tokenizer/pre_tokenizer.hpp"
#include "train/bpe_vocab.hpp"
#include "train/corpus.hpp"

namespace minima::train {

namespace {

// Documents are gathered into batches of about this many bytes and counted in parallel: large
// enough that the threads' start and join cost nothing, small enough to bound memory.
constexpr size_t kBatchBytes = size_t{32} << 20;

const tok::PreSpec& qwen2_spec() {
  const tok::PreSpec* spec = tok::find_pre_spec("qwen2");
  if (spec == nullptr) fail("BPE training: the qwen2 pre-tokenizer is not built in");
  return *spec;
}

// Length of the special-token text starting at text[pos], or 0.
size_t special_at(std::string_view text, size_t pos) {
  for (const std::string_view s : kBpeSpecialTokens) {
    if (text.substr(pos, s.size()) == s) return s.size();
  }
  return 0;
}

}  // namespace

WordCounter::WordCounter() : pre_(std::make_unique<tok::PreTokenizer>(qwen2_spec())) {}
WordCounter::~WordCounter() = default;

void WordCounter::add_text(std::string_view text) {
  size_t piece = 0;  // start of the text not yet pre-tokenized
  size_t pos = 0;
  for (;;) {
    // Every special text starts with "<|": look only there.
    size_t cut = text.find("<|", pos);
    size_t cut_len = 0;
    while (cut != std::string_view::npos && (cut_len = special_at(text, cut)) == 0) {
      cut = text.find("<|", cut + 1);
    }
    const size_t end = cut == std::string_view::npos ? text.size() : cut;
    spans_.clear();
    pre_->split(text.substr(piece, end - piece), spans_);
    for (const auto& [b, e] : spans_) {
      const std::string_view w = text.substr(piece + b, e - b);
      if (const auto it = counts_.find(w); it != counts_.end()) {
        ++it->second;
      } else {
        counts_.emplace(std::string(w), 1);
      }
    }
    if (cut == std::string_view::npos) return;
    piece = pos = cut + cut_len;
  }
}

void WordCounter::merge_from(WordCounter& other) {
  for (auto& [w, n] : other.counts_) counts_[w] += n;
  other.counts_.clear();
}

WordCounts WordCounter::take_sorted() {
  WordCounts out;
  out.reserve(counts_.size());
  for (auto& node : counts_) out.emplace_back(node.first, node.second);
  counts_.clear();
  std::sort(out.begin(), out.end());
  return out;
}

WordCounts count_corpus_words(std::span<const std::filesystem::path> files, int threads) {
  ThreadPool pool(std::max(threads, 1));
  std::vector<std::unique_ptr<WordCounter>> counters;
  for (int i = 0; i < pool.size(); ++i) counters.push_back(std::make_unique<WordCounter>());
  std::vector<std::exception_ptr> errors(static_cast<size_t>(pool.size()));

  std::vector<std::string> batch;
  size_t batch_bytes = 0;
  auto flush = [&] {
    const auto n = static_cast<int64_t>(batch.size());
    pool.run([&](int ith, int nth) {
      try {
        for (int64_t d = n * ith / nth; d < n * (ith + 1) / nth; ++d) {
          counters[static_cast<size_t>(ith)]->add_text(batch[static_cast<size_t>(d)]);
        }
      } catch (...) {
        errors[static_cast<size_t>(ith)] = std::current_exception();
      }
    });
    for (auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
    batch.clear();
    batch_bytes = 0;
  };
  for (const auto& path : files) {
    for_each_document(path, [&](const CorpusDocument& doc) {
      batch.emplace_back(doc.text);
      batch_bytes += doc.text.size();
      if (batch_bytes >= kBatchBytes) flush();
    });
  }
  flush();
  for (size_t i = 1; i < counters.size(); ++i) counters[0]->merge_from(*counters[i]);
  return counters[0]->take_sorted();
}

}  // namespace minima::train
