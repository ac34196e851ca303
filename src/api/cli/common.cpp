#include "api/cli/common.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace minima::cli {

void add_compute_options(ArgParser& p) {
  p.opt("--threads", "-t", "N", "worker threads (default: all cores)");
}

Compute make_compute(const ArgParser& p) {
  const int n = static_cast<int>(p.get_int("--threads", default_thread_count(), 1, 1024));
  return {&kernels_for(detect_isa()), std::make_unique<ThreadPool>(n)};
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, ": cannot open: ", std::strerror(errno));
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) fail(path, ": read error");
  return ss.str();
}

void add_load_options(ArgParser& p) {
  p.flag("--mmap",
         "map the model file instead of reading it into (huge-page) memory: less load time and "
         "shared pages, slower decode; also chosen by itself when the file is over half the "
         "free memory");
}

FileLoad file_load(const ArgParser& p) {
  return p.get_flag("--mmap") ? FileLoad::Map : FileLoad::Auto;
}

}  // namespace minima::cli
