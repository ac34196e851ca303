#include "runtime/tokenizer/merge_table.hpp"

namespace minima::tok {

void MergeTable::reserve(size_t n_merges) {
  size_t cap = 16;
  while (cap < n_merges * 2) cap *= 2;  // load factor <= 1/2 keeps probe runs short
  if (cap <= slots_.size()) return;
  std::vector<Entry> old;
  old.swap(slots_);
  slots_.assign(cap, Entry{});
  mask_ = cap - 1;
  size_ = 0;
  for (const Entry& e : old) {
    if (e.key != kEmpty)
      insert(int32_t(e.key >> 32), int32_t(e.key & 0xFFFFFFFFu), e.rank, e.merged);
  }
}

void MergeTable::grow() {
  reserve(slots_.empty() ? 8 : slots_.size());
}

void MergeTable::insert(int32_t left, int32_t right, int32_t rank, int32_t merged) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const uint64_t key = make_key(left, right);
  for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
    Entry& e = slots_[i];
    if (e.key == key) return;
    if (e.key == kEmpty) {
      e = Entry{key, rank, merged};
      ++size_;
      return;
    }
  }
}

}  // namespace minima::tok
