// Stop strings over streamed text: text is released as soon as it can no longer be the start of a
// stop string; a stop string found in the text ends the stream and is not released.
// Reuses its buffer, so steady-state pushes do not allocate.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace minima {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  // Appends a piece; `release` receives the text that is now final. Returns true when a stop
  // string was completed (the text before it has been released; nothing after it ever will be).
  template <class F>
  bool push(std::string_view piece, F&& release) {
    pending_ += piece;
    if (!stops_.empty()) {
      size_t hit = std::string::npos;
      for (const auto& s : stops_) hit = std::min(hit, pending_.find(s));
      if (hit != std::string::npos) {
        if (hit > 0) release(std::string_view(pending_).substr(0, hit));
        pending_.clear();
        return true;
      }
    }
    const size_t keep = held_back();
    if (pending_.size() > keep) {
      release(std::string_view(pending_).substr(0, pending_.size() - keep));
      pending_.erase(0, pending_.size() - keep);
    }
    return false;
  }
  // The held-back tail at the end of the stream (it did not become a stop string).
  std::string_view tail() const { return pending_; }
  void clear() { pending_.clear(); }

 private:
  size_t held_back() const;
  std::vector<std::string> stops_;
  std::string pending_;
};

}  // namespace minima
