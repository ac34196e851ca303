// Persistent worker pool. run(fn) executes fn(ith, nth) once on each of the nth threads (the
// caller is thread 0) and returns when all are done. Workers spin briefly on a generation counter,
// then sleep on it (std::atomic::wait), so back-to-back ops in a forward pass cost no thread
// creation and no syscalls while work keeps coming. No allocation per run.
//
// One pool is created by whoever owns a compute loop and passed down explicitly. Calls to run()
// from two threads are serialized (the second waits for the first: a pool shared by mistake costs
// speed, never correctness); run() must not be called from inside fn.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "core/function_ref.hpp"

namespace minima {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads >= 1, including the caller
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  void run(FunctionRef<void(int ith, int nth)> fn);

  // Splits [0, n) into nth contiguous chunks; fn(begin, end) on each non-empty one.
  template <class F>
  void parallel_for(int64_t n, F&& fn) {
    auto body = [&](int ith, int nth) {
      const int64_t b = n * ith / nth, e = n * (ith + 1) / nth;
      if (b < e) fn(b, e);
    };
    if (n_threads_ == 1 || n <= 1) {
      if (n > 0) fn(int64_t{0}, n);
      return;
    }
    run(body);
  }

 private:
  void worker(int ith);

  int n_threads_;
  std::vector<std::thread> threads_;
  FunctionRef<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};            // workers blocked in generation_.wait
  std::atomic<bool> caller_sleeps_{false};  // run() blocked in pending_.wait
  std::mutex caller_;                       // one run() at a time
};

// Threads to use when the user gives none: the number of physical cores is what pays for matmul;
// hardware_concurrency counts SMT siblings, so take at most that.
int default_thread_count();

}  // namespace minima
