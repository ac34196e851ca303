// A whole file's bytes, read-only (owning; move-only). Tensor views point into it, so it must
// outlive every view; model/ keeps it inside the GgufFile that hands the views out.
//
// Two ways to hold them (FileLoad):
//   Map:      mmap of the file (pages come from the page cache on first touch; nothing is copied,
//             and a file larger than memory still works);
//   Resident: the file read into anonymous memory backed by 2 MiB transparent huge pages where the
//             kernel allows them (madvise), then made read-only. Decode streams every weight once
//             per token, and with 4 KiB pages a TLB miss every 4 KiB holds the stream back:
//             measured 25 GB/s from a mapped file against 35 GB/s from huge pages on the same
//             machine. Costs the read at load (~0.1–0.3 s per GB from the page cache) and makes the
//             weights private to the process.
//   Auto:     Resident when the file fits in half of the memory available now, else Map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace minima {

enum class FileLoad { Map, Resident, Auto };

class MappedFile {
 public:
  MappedFile() = default;
  // Throws Error naming the path when the file cannot be opened, mapped or read.
  explicit MappedFile(const std::filesystem::path& path, FileLoad load = FileLoad::Map);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }
  bool resident() const { return resident_; }

 private:
  void reset();
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* base_ = nullptr;  // what munmap releases: the mapping, or the huge-page-aligned buffer
  size_t base_size_ = 0;
  bool resident_ = false;
  std::string path_;
};

}  // namespace minima
