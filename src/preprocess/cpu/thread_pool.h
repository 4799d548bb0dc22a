// ThreadPool: fixed workers that split the images of one batch (dynamic, one index at a time,
// since image sizes vary). The calling thread takes part as worker 0.
// Threading: ParallelFor is called by one thread at a time; fn runs concurrently on distinct
// indices and gets the worker id (0 .. size()-1) for per-worker scratch.
// Failure: an exception thrown by fn ends only that index: every other index still runs, and
// the first exception is rethrown on the caller once all have finished, with the pool ready for
// the next ParallelFor (an exception must neither kill a worker thread nor outlive the call).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace optic::preprocess {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // total including the caller; < 1 means 1
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  void ParallelFor(int n, const std::function<void(int index, int worker)>& fn);

 private:
  void WorkerLoop(int worker);
  void Drain(int worker);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  uint64_t generation_ = 0;
  int busy_ = 0;
  bool stop_ = false;
  int n_ = 0;
  const std::function<void(int, int)>* fn_ = nullptr;
  std::exception_ptr error_;  // the first exception fn threw in this ParallelFor (under mu_)
  std::atomic<int> next_{0};
};

}  // namespace optic::preprocess
