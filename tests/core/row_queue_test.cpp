// RowQueue: every row handed out exactly once, whatever the threads' speeds; a thread left alone
// takes every share (stealing from the back), and its own share comes front to back.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>
#include <vector>

#include "core/row_queue.hpp"

namespace minima {
namespace {

TEST(RowQueue, EveryRowExactlyOnceUnderContention) {
  for (int nth : {1, 2, 3, 4}) {
    RowQueue q(nth);
    for (int64_t n : {0, 1, 7, 1000, 4099}) {
      for (int64_t grain : {1, 3, 64}) {
        std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
        q.reset(n, grain, nth);
        std::vector<std::thread> ts;
        for (int ith = 0; ith < nth; ++ith)
          ts.emplace_back([&, ith] {
            int64_t r0 = 0, r1 = 0;
            // Thread 0 dawdles so the others must steal from its share.
            while (q.next(ith, r0, r1)) {
              ASSERT_LT(r0, r1);
              // At most a quarter of a share at once: n / nth / 4 rows, and whole chunks.
              ASSERT_LE(r1 - r0, std::max<int64_t>(grain, (n / nth + grain) / 4 + grain));
              ASSERT_EQ(r0 % grain, 0);
              for (int64_t r = r0; r < r1; ++r) seen[static_cast<size_t>(r)].fetch_add(1);
              if (ith == 0) std::this_thread::yield();
            }
          });
        for (auto& t : ts) t.join();
        for (int64_t r = 0; r < n; ++r)
          ASSERT_EQ(seen[static_cast<size_t>(r)].load(), 1)
              << "row " << r << " of " << n << ", grain " << grain << ", " << nth << " threads";
      }
    }
  }
}

TEST(RowQueue, AloneAThreadTakesItsShareInOrderThenStealsFromTheBack) {
  RowQueue q(3);
  q.reset(9, 1, 3);  // shares [0,3) [3,6) [6,9)
  std::vector<int64_t> order;
  int64_t r0 = 0, r1 = 0;
  while (q.next(1, r0, r1)) order.push_back(r0);
  const std::vector<int64_t> want = {3, 4, 5, 8, 7, 6, 2, 1, 0};
  EXPECT_EQ(order, want);
  EXPECT_FALSE(q.next(0, r0, r1));
  EXPECT_FALSE(q.next(2, r0, r1));
}

TEST(RowQueue, OwnShareClaimsShrinkAsItEmpties) {
  RowQueue q(2);
  q.reset(64, 1, 2);  // shares [0,32) [32,64)
  std::vector<std::pair<int64_t, int64_t>> claims;
  int64_t r0 = 0, r1 = 0;
  while (q.next(0, r0, r1)) claims.emplace_back(r0, r1);
  // A quarter of what is left, then single chunks, then share 1 from the back one at a time.
  const std::vector<std::pair<int64_t, int64_t>> head = {{0, 8},   {8, 14},  {14, 18}, {18, 21},
                                                         {21, 23}, {23, 25}, {25, 26}, {26, 27}};
  ASSERT_GE(claims.size(), head.size() + 32);
  EXPECT_TRUE(std::equal(head.begin(), head.end(), claims.begin()));
  EXPECT_EQ(claims[claims.size() - 32], (std::pair<int64_t, int64_t>{63, 64}));
  EXPECT_EQ(claims.back(), (std::pair<int64_t, int64_t>{32, 33}));
}

TEST(RowQueue, ResetRefusesBadArguments) {
  RowQueue q(2);
  EXPECT_THROW(q.reset(10, 1, 3), std::exception);
  EXPECT_THROW(q.reset(10, 0, 2), std::exception);
  EXPECT_THROW(q.reset(-1, 1, 2), std::exception);
  EXPECT_THROW(RowQueue(0), std::exception);
}

}  // namespace
}  // namespace minima
