#include "api/cli/common.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
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

std::string model_path(const ArgParser& p) {
  if (auto m = p.get("--model")) return *m;
  if (const char* env = std::getenv("MINIMA_MODEL"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::vector<std::filesystem::path> tried;
  if (!ec) {
    const auto bin = exe.parent_path();
    tried.push_back(bin / ".." / ".." / ".." / "models" / "minima-mini.gguf");
    tried.push_back(bin / ".." / "share" / "minima" / "minima-mini.gguf");
  }
  for (const auto& t : tried) {
    if (std::filesystem::is_regular_file(t, ec)) return t.lexically_normal().string();
  }
  std::string where;
  for (const auto& t : tried) where += " " + t.lexically_normal().string();
  fail("no --model given and the built-in model minima-mini was not found (looked at $MINIMA_MODEL",
       where.empty() ? "" : " and", where, "); give --model FILE");
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
