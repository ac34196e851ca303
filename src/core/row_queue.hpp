// Dynamic split of a decode GEMV's rows over the threads of one pool run.
//
// Decode streams every weight row once per token, and a static split (half the rows each) leaves
// one core idle whenever the other's memory stream runs slower, which on a shared machine it does
// by ~10% per matmul at random. Here each thread still starts on its own contiguous share (a
// sequential stream, which the hardware prefetcher needs) and takes it front to back in chunks;
// a thread that runs out takes chunks from the back of the others' shares, so both finish within
// one chunk of each other. Every chunk is handed out exactly once (one atomic word per share
// holds its front and back, both only ever moved by compare-exchange), and since a row's value
// never depends on which rows share a kernel call (DotRowsFn's contract), the split changes no
// bits.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/kernels/kernels.hpp"

namespace minima {

class RowQueue {
 public:
  explicit RowQueue(int n_threads = 1);

  // Before the pool run (not while one uses the queue): rows [0, n) in chunks of grain rows,
  // split into nth shares (nth ≤ the thread count given at construction).
  void reset(int64_t n, int64_t grain, int nth);

  // Thread ith's next rows [r0, r1): from the front of its own share a quarter of the chunks it
  // has left (at least one), then one chunk at a time from the back of another share that has
  // any left. False when every chunk has been taken.
  bool next(int ith, int64_t& r0, int64_t& r1);

  // The RowSource a kernel pulls thread ith's chunks from.
  class Taker final : public RowSource {
   public:
    Taker(RowQueue& q, int ith) : q_(q), ith_(ith) {}
    bool next(int64_t& r0, int64_t& r1) override { return q_.next(ith_, r0, r1); }

   private:
    RowQueue& q_;
    int ith_;
  };

 private:
  // Chunk indices [front, back) of one share, packed as front | back << 32.
  struct alignas(64) Share {
    std::atomic<uint64_t> range{0};
  };
  bool take(int64_t c0, int64_t c1, int64_t& r0, int64_t& r1) const;  // chunks [c0, c1)

  int n_threads_;
  int nth_ = 1;
  int64_t n_ = 0, grain_ = 1;
  std::unique_ptr<Share[]> shares_;
};

}  // namespace minima
