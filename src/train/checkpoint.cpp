#include "train/checkpoint.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/error.hpp"

namespace minima::train {
namespace {

constexpr char kMagic[8] = {'M', 'N', 'C', 'K', 'P', 'T', '0', '1'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeader = 8 + 4 + 4 + 8 + 8 + 8;

struct Fnv {
  uint64_t h = 0xCBF29CE484222325ull;
  void add(const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001B3ull;
  }
};

std::vector<std::filesystem::path> checkpoints_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> v;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return v;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.starts_with("step-") && n.ends_with(".ckpt")) v.push_back(e.path());
  }
  std::sort(v.begin(), v.end());  // zero-padded step numbers sort in step order
  return v;
}

}  // namespace

std::filesystem::path save_checkpoint(const std::filesystem::path& dir, const TrainState& s,
                                      uint64_t trajectory_hash, int keep) {
  std::filesystem::create_directories(dir);
  char name[64];
  std::snprintf(name, sizeof name, "step-%08lld.ckpt", static_cast<long long>(s.step));
  const auto path = dir / name, tmp = dir / (std::string(name) + ".tmp");
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) fail("checkpoint: cannot write ", tmp.string());
    Fnv sum;
    const auto put = [&](const void* p, size_t n) {
      f.write(static_cast<const char*>(p), std::streamsize(n));
      sum.add(p, n);
    };
    const uint32_t version = kVersion, zero = 0;
    const int64_t step = s.step;
    const uint64_t n = s.params.size();
    put(kMagic, 8);
    put(&version, 4);
    put(&zero, 4);
    put(&trajectory_hash, 8);
    put(&step, 8);
    put(&n, 8);
    put(s.params.data(), n * 4);
    put(s.m.data(), n * 4);
    put(s.v.data(), n * 4);
    f.write(reinterpret_cast<const char*>(&sum.h), 8);
    f.flush();
    if (!f) fail("checkpoint: writing ", tmp.string(), " failed (disk full?)");
  }
  std::filesystem::rename(tmp, path);
  auto all = checkpoints_in(dir);
  for (size_t i = 0; i + size_t(keep) < all.size(); ++i) std::filesystem::remove(all[i]);
  return path;
}

TrainState load_checkpoint(const std::filesystem::path& file, uint64_t trajectory_hash,
                           size_t n_params) {
  std::ifstream f(file, std::ios::binary);
  if (!f) fail("checkpoint ", file.string(), ": cannot open");
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const std::string where = "checkpoint " + file.string() + ": ";
  if (bytes.size() < kHeader + 8 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    fail(where, "not a minima checkpoint (bad magic or too short)");
  uint32_t version;
  uint64_t hash, n;
  int64_t step;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&hash, bytes.data() + 16, 8);
  std::memcpy(&step, bytes.data() + 24, 8);
  std::memcpy(&n, bytes.data() + 32, 8);
  if (version != kVersion) fail(where, "version ", version, ", this minima reads ", kVersion);
  if (n != n_params)
    fail(where, "holds ", n, " parameters, the recipe's model has ", n_params);
  if (bytes.size() != kHeader + 3 * n * 4 + 8)
    fail(where, "is ", bytes.size(), " bytes, expected ", kHeader + 3 * n * 4 + 8, " (truncated?)");
  Fnv sum;
  sum.add(bytes.data(), bytes.size() - 8);
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  if (stored != sum.h) fail(where, "checksum mismatch (the file is corrupt)");
  if (hash != trajectory_hash)
    fail(where, "was written under a different recipe (model shape, data, optimizer, seed or batch "
                "changed): resume with the original recipe or remove the checkpoint");
  if (step < 0) fail(where, "negative step ", step);
  TrainState s;
  s.step = step;
  s.params.resize(n);
  s.m.resize(n);
  s.v.resize(n);
  const char* p = bytes.data() + kHeader;
  std::memcpy(s.params.data(), p, n * 4);
  std::memcpy(s.m.data(), p + n * 4, n * 4);
  std::memcpy(s.v.data(), p + 2 * n * 4, n * 4);
  return s;
}

std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& dir) {
  auto all = checkpoints_in(dir);
  if (all.empty()) return std::nullopt;
  return all.back();
}

}  // namespace minima::train
