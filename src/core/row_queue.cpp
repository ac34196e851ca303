#include "core/row_queue.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace minima {

namespace {
constexpr uint64_t kBackOne = uint64_t{1} << 32;
uint64_t front_of(uint64_t v) {
  return v & 0xFFFFFFFFu;
}
uint64_t back_of(uint64_t v) {
  return v >> 32;
}
}  // namespace

RowQueue::RowQueue(int n_threads)
    : n_threads_(n_threads), shares_(std::make_unique<Share[]>(static_cast<size_t>(n_threads))) {
  if (n_threads < 1) fail("RowQueue: thread count must be >= 1, got ", n_threads);
}

void RowQueue::reset(int64_t n, int64_t grain, int nth) {
  if (nth < 1 || nth > n_threads_)
    fail("RowQueue: ", nth, " shares of a ", n_threads_, "-thread queue");
  if (n < 0 || grain < 1) fail("RowQueue: ", n, " rows in chunks of ", grain);
  const int64_t chunks = (n + grain - 1) / grain;
  if (chunks >= (int64_t{1} << 32)) fail("RowQueue: ", chunks, " chunks is too many");
  n_ = n;
  grain_ = grain;
  nth_ = nth;
  for (int i = 0; i < nth; ++i) {
    const auto b = static_cast<uint64_t>(chunks * i / nth);
    const auto e = static_cast<uint64_t>(chunks * (i + 1) / nth);
    // Relaxed: the pool run that follows publishes these stores to the workers.
    shares_[static_cast<size_t>(i)].range.store(b | e << 32, std::memory_order_relaxed);
  }
}

bool RowQueue::take(int64_t chunk, int64_t& r0, int64_t& r1) const {
  r0 = chunk * grain_;
  r1 = std::min(n_, r0 + grain_);
  return true;
}

bool RowQueue::next(int ith, int64_t& r0, int64_t& r1) {
  std::atomic<uint64_t>& own = shares_[static_cast<size_t>(ith)].range;
  uint64_t v = own.load(std::memory_order_relaxed);
  while (front_of(v) < back_of(v)) {
    if (own.compare_exchange_weak(v, v + 1, std::memory_order_relaxed))
      return take(static_cast<int64_t>(front_of(v)), r0, r1);
  }
  for (int k = 1; k < nth_; ++k) {
    std::atomic<uint64_t>& other = shares_[static_cast<size_t>((ith + k) % nth_)].range;
    v = other.load(std::memory_order_relaxed);
    while (front_of(v) < back_of(v)) {
      if (other.compare_exchange_weak(v, v - kBackOne, std::memory_order_relaxed))
        return take(static_cast<int64_t>(back_of(v)) - 1, r0, r1);
    }
  }
  return false;
}

}  // namespace minima
