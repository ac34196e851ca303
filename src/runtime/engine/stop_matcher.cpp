#include "runtime/engine/stop_matcher.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace minima {

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  size_t longest = 0;
  for (const auto& s : stops_) {
    if (s.empty()) fail("stop strings must not be empty");
    longest = std::max(longest, s.size());
  }
  pending_.reserve(longest + 4096);
}

// Length of the longest suffix of the pending text that is a proper prefix of some stop string:
// that much must be held back, because the next piece may complete the stop string.
size_t StopMatcher::held_back() const {
  const std::string_view text = pending_;
  size_t keep = 0;
  for (const auto& s : stops_) {
    for (size_t len = std::min(text.size(), s.size() - 1); len > keep; --len) {
      if (text.substr(text.size() - len) == std::string_view(s).substr(0, len)) {
        keep = len;
        break;
      }
    }
  }
  return keep;
}

}  // namespace minima
