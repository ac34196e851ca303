#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "core/threads.hpp"

namespace minima {
namespace {

TEST(ThreadPool, RunsEveryIndexOncePerCall) {
  for (int n : {1, 2, 3, 8}) {
    ThreadPool pool(n);
    for (int rep = 0; rep < 2000; ++rep) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.run([&](int ith, int nth) {
        ASSERT_EQ(nth, n);
        hits[static_cast<size_t>(ith)].fetch_add(1);
      });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    }
  }
}

TEST(ThreadPool, ParallelForCoversTheRangeExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 5, 1000}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
}

TEST(ThreadPool, WorkersSleepAndWakeAcrossIdleGaps) {
  ThreadPool pool(2);
  std::atomic<int> sum{0};
  for (int rep = 0; rep < 5; ++rep) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(20));  // past the spin phase: workers park
    pool.run([&](int ith, int) { sum += ith + 1; });
  }
  EXPECT_EQ(sum.load(), 5 * 3);
}

TEST(ThreadPool, RejectsBadSizes) {
  EXPECT_THROW(ThreadPool(0), std::exception);
  EXPECT_THROW(ThreadPool(-1), std::exception);
}

}  // namespace
}  // namespace minima
