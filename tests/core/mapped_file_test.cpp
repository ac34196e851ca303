// MappedFile: both ways of holding a file give its exact bytes, read-only; errors name the path.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/mapped_file.hpp"

namespace minima {
namespace {

std::filesystem::path temp_file(const std::string& name, const std::vector<uint8_t>& bytes) {
  const auto p = std::filesystem::temp_directory_path() /
                 ("minima_mapped_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return p;
}

TEST(MappedFile, EveryLoadGivesTheFileBytes) {
  std::mt19937 rng(5);
  // Empty, tiny, and over one 2 MiB huge page with a ragged end.
  for (size_t size : {size_t{0}, size_t{1}, size_t{4097}, (size_t{2} << 20) + 12345}) {
    std::vector<uint8_t> bytes(size);
    for (auto& b : bytes) b = uint8_t(rng());
    const auto path = temp_file(std::to_string(size), bytes);
    for (FileLoad load : {FileLoad::Map, FileLoad::Resident, FileLoad::Auto}) {
      MappedFile f(path, load);
      ASSERT_EQ(f.bytes().size(), size);
      EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), f.bytes().begin()));
      if (load == FileLoad::Map) {
        EXPECT_FALSE(f.resident());
      }
      if (load == FileLoad::Resident && size > 0) {
        EXPECT_TRUE(f.resident());
      }
      // Moves keep the bytes where they are.
      const uint8_t* at = f.bytes().data();
      MappedFile g(std::move(f));
      EXPECT_EQ(g.bytes().data(), at);
      EXPECT_EQ(f.bytes().size(), 0u);
    }
    std::filesystem::remove(path);
  }
}

TEST(MappedFile, ResidentBytesAreReadOnly) {
  const auto path = temp_file("ro", std::vector<uint8_t>(100, 7));
  MappedFile f(path, FileLoad::Resident);
  auto* p = const_cast<uint8_t*>(f.bytes().data());
  EXPECT_DEATH(p[0] = 1, "");
  std::filesystem::remove(path);
}

TEST(MappedFile, MissingFileAndDirectoryAreClearErrors) {
  for (FileLoad load : {FileLoad::Map, FileLoad::Resident}) {
    try {
      MappedFile f("/nonexistent/model.gguf", load);
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf: cannot open"),
                std::string::npos)
          << e.what();
    }
    try {
      MappedFile f(std::filesystem::temp_directory_path(), load);
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace minima
