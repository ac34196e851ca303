// Text → id lookup over the token table: an open-addressing table of ids that compares against
// the texts themselves (no copy of the strings), with a 32-bit hash tag per slot so that most
// failed probes never touch the text. The hot lookup of SPM and WPM, and of every load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace minima::tok {

class TokenIndex {
 public:
  // Indexes texts[0..n). Returns -1, or the id of an earlier token with the same text as a later
  // one (the later one is then not indexed; `dup` receives its id).
  int32_t build(const std::vector<std::string>& texts, int32_t& dup);

  int32_t find(std::string_view s, const std::vector<std::string>& texts) const {
    if (slots_.empty()) return -1;
    const size_t h = std::hash<std::string_view>{}(s);
    const auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& sl = slots_[i];
      if (sl.id < 0) return -1;
      if (sl.tag == tag && texts[sl.id] == s) return sl.id;
    }
  }

 private:
  struct Slot {
    uint32_t tag = 0;
    int32_t id = -1;  // -1: empty
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace minima::tok
