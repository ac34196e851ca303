// printf-style formatting of the one-line log messages of the training loops.
#pragma once

#include <cstdio>
#include <string>

namespace minima::train {

inline std::string fmt(const char* f, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, f, args...);
  return buf;
}

}  // namespace minima::train
