// Error type used inside minima. Everything that can fail on bad input (a corrupt file, a bad
// argument) throws minima::Error with a message that says what was wrong and where; the CLI and the
// server translate it into a user-facing message at the edge. Nothing aborts on bad input.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace minima {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds the message from streamable parts: fail("tensor '", name, "': offset ", off, " past end").
template <class... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  std::ostringstream os;
  (os << ... << std::forward<Parts>(parts));
  throw Error(os.str());
}

}  // namespace minima
