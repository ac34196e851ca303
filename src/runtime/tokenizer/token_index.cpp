#include "runtime/tokenizer/token_index.hpp"

namespace minima::tok {

int32_t TokenIndex::build(const std::vector<std::string>& texts, int32_t& dup) {
  size_t cap = 16;
  while (cap < texts.size() * 2) cap *= 2;  // load factor <= 1/2
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  for (size_t id = 0; id < texts.size(); ++id) {
    const size_t h = std::hash<std::string_view>{}(texts[id]);
    const auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& sl = slots_[i];
      if (sl.id < 0) {
        sl = Slot{tag, static_cast<int32_t>(id)};
        break;
      }
      if (sl.tag == tag && texts[sl.id] == texts[id]) {
        dup = static_cast<int32_t>(id);
        return sl.id;
      }
    }
  }
  return -1;
}

}  // namespace minima::tok
