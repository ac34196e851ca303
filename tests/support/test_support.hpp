// Helpers shared by the test binaries: where ../shared is, and the skip-or-fail policy when it is
// absent (a user's fresh clone skips with a message; under CI=true absence is a failure).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace minima::test {

// Path of ../shared (may not exist).
std::filesystem::path shared_dir();
// Path of the built minima CLI binary.
std::filesystem::path minima_binary();
// True under CI (CI=true in the environment).
bool in_ci();
// A fresh, empty temporary directory for this test (removed by the caller or left under /tmp).
std::filesystem::path temp_dir(const std::string& tag);

}  // namespace minima::test

// Use at the top of a test that needs ../shared/<sub>: skips (or fails under CI) when absent.
#define MINIMA_REQUIRE_SHARED(sub)                                                         \
  do {                                                                                     \
    const auto _p = ::minima::test::shared_dir() / (sub);                                  \
    if (!std::filesystem::exists(_p)) {                                                    \
      if (::minima::test::in_ci()) FAIL() << "CI=true but shared data is missing: " << _p; \
      GTEST_SKIP() << "shared data not found at " << _p                                    \
                   << " (clone the shared data beside the repository to run this test)";   \
    }                                                                                      \
  } while (0)
