#include "core/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.hpp"

namespace minima {

namespace {

constexpr size_t kHuge = size_t{2} << 20;

// Whether size bytes fit in half of the memory available now (Auto's test).
bool fits_in_memory(size_t size) {
  const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return false;
  return size <= static_cast<size_t>(pages) * static_cast<size_t>(page) / 2;
}

}  // namespace

MappedFile::MappedFile(const std::filesystem::path& path, FileLoad load) : path_(path.string()) {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path_, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    fail(path_, ": cannot stat: ", std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path_, ": not a regular file");
  }
  size_ = static_cast<size_t>(st.st_size);
  if (load == FileLoad::Auto) load = fits_in_memory(size_) ? FileLoad::Resident : FileLoad::Map;
  if (size_ > 0 && load == FileLoad::Resident) {
    // Over-allocate by one huge page so the buffer can start on a 2 MiB boundary.
    base_size_ = (size_ + kHuge - 1) / kHuge * kHuge + kHuge;
    base_ = ::mmap(nullptr, base_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base_ == MAP_FAILED) {
      base_ = nullptr;
      ::close(fd);
      fail(path_, ": cannot allocate ", size_, " bytes to load the file: ", std::strerror(errno));
    }
    const auto addr = reinterpret_cast<uintptr_t>(base_);
    auto* buf = reinterpret_cast<uint8_t*>((addr + kHuge - 1) / kHuge * kHuge);
    ::madvise(buf, base_size_ - kHuge, MADV_HUGEPAGE);  // a hint: fine if refused
    size_t done = 0;
    while (done < size_) {
      const ssize_t n = ::pread(fd, buf + done, std::min<size_t>(size_ - done, size_t{1} << 30),
                                static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int e = n < 0 ? errno : 0;
        ::close(fd);
        ::munmap(base_, base_size_);
        base_ = nullptr;
        fail(path_, ": read failed at byte ", done, " of ", size_, ": ",
             e != 0 ? std::strerror(e) : "unexpected end of file");
      }
      done += static_cast<size_t>(n);
    }
    ::mprotect(base_, base_size_, PROT_READ);
    data_ = buf;
    resident_ = true;
  } else if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      fail(path_, ": cannot map ", size_, " bytes: ", std::strerror(e));
    }
    data_ = static_cast<const uint8_t*>(p);
    base_ = p;
    base_size_ = size_;
  }
  ::close(fd);  // the mapping (or the copy) no longer needs it
}

MappedFile::~MappedFile() {
  reset();
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      base_(std::exchange(o.base_, nullptr)),
      base_size_(std::exchange(o.base_size_, 0)),
      resident_(std::exchange(o.resident_, false)),
      path_(std::move(o.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    reset();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    base_ = std::exchange(o.base_, nullptr);
    base_size_ = std::exchange(o.base_size_, 0);
    resident_ = std::exchange(o.resident_, false);
    path_ = std::move(o.path_);
  }
  return *this;
}

void MappedFile::reset() {
  if (base_ != nullptr) ::munmap(base_, base_size_);
  base_ = nullptr;
  base_size_ = 0;
  data_ = nullptr;
  size_ = 0;
  resident_ = false;
}

}  // namespace minima
