#include "support/test_support.hpp"

#include <cstdlib>
#include <random>
#include <string_view>

namespace minima::test {

std::filesystem::path shared_dir() {
  return MINIMA_SHARED_DIR;
}
std::filesystem::path minima_binary() {
  return MINIMA_BINARY;
}

bool in_ci() {
  const char* v = std::getenv("CI");
  return v != nullptr && std::string_view(v) == "true";
}

std::filesystem::path temp_dir(const std::string& tag) {
  std::random_device rd;
  auto p = std::filesystem::temp_directory_path() /
           ("minima-test-" + tag + "-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace minima::test
