#include "core/row_queue.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace minima {

namespace {
constexpr uint64_t kBackOne = uint64_t{1} << 32;
// A thread claims a quarter of what is left of its own share at once (at least one chunk):
// every claim is a locked compare-exchange, which on x86 waits for the thread's outstanding
// loads, so one per chunk stalls the weight stream ~100 times per matmul; claims shrinking with
// the share (guided scheduling) cost a few per matmul and still leave the last chunks, one at a
// time, to whichever thread gets there first.
constexpr uint64_t kGuide = 4;
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

bool RowQueue::take(int64_t c0, int64_t c1, int64_t& r0, int64_t& r1) const {
  r0 = c0 * grain_;
  r1 = std::min(n_, c1 * grain_);
  return true;
}

bool RowQueue::next(int ith, int64_t& r0, int64_t& r1) {
  std::atomic<uint64_t>& own = shares_[static_cast<size_t>(ith)].range;
  uint64_t v = own.load(std::memory_order_relaxed);
  while (front_of(v) < back_of(v)) {
    const uint64_t k = std::max<uint64_t>(1, (back_of(v) - front_of(v)) / kGuide);
    if (own.compare_exchange_weak(v, v + k, std::memory_order_relaxed)) {
      const auto c0 = static_cast<int64_t>(front_of(v));
      return take(c0, c0 + static_cast<int64_t>(k), r0, r1);
    }
  }
  for (int k = 1; k < nth_; ++k) {
    std::atomic<uint64_t>& other = shares_[static_cast<size_t>((ith + k) % nth_)].range;
    v = other.load(std::memory_order_relaxed);
    while (front_of(v) < back_of(v)) {
      if (other.compare_exchange_weak(v, v - kBackOne, std::memory_order_relaxed)) {
        const auto c1 = static_cast<int64_t>(back_of(v));
        return take(c1 - 1, c1, r0, r1);
      }
    }
  }
  return false;
}

}  // namespace minima
