// BPE merge ranks keyed by the pair of token ids: an open-addressing hash table (the hot lookup of
// byte-level BPE), built once at load time and read-only afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace minima::tok {

class MergeTable {
 public:
  struct Entry {
    uint64_t key = kEmpty;  // (left << 32) | right
    int32_t rank = 0;       // position in tokenizer.ggml.merges: lower merges first
    int32_t merged = 0;     // id of the token spelled left+right
  };

  void reserve(size_t n_merges);
  // Keeps the first (lowest-rank) entry when a pair is listed twice, as llama.cpp does.
  void insert(int32_t left, int32_t right, int32_t rank, int32_t merged);
  const Entry* find(int32_t left, int32_t right) const {
    if (slots_.empty()) return nullptr;
    const uint64_t key = make_key(left, right);
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.key == key) return &e;
      if (e.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // ids are >= 0, so never a real key
  static uint64_t make_key(int32_t l, int32_t r) {
    return (uint64_t(uint32_t(l)) << 32) | uint32_t(r);
  }
  static size_t hash(uint64_t k) {  // splitmix64 finaliser: ids are dense, so mix them well
    k ^= k >> 30;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 27;
    k *= 0x94d049bb133111ebULL;
    k ^= k >> 31;
    return static_cast<size_t>(k);
  }
  void grow();

  std::vector<Entry> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace minima::tok
