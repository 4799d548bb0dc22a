// The dynamic batcher of one model version: a bounded priority queue, one scheduler thread that
// forms batches (max batch size, preferred batch sizes, max queue delay) and N model instances,
// each with its own worker thread, so an instance never runs two batches at once.
//
// Ownership: the batcher owns its instances (Models) and every request from a successful Enqueue
// until it calls the request's `done` exactly once. Input tensors may borrow memory owned by the
// request's `keep_alive`.
// Threading: Enqueue and Shutdown may be called from any thread. `done` runs on an instance worker
// thread (or the scheduler thread for timeouts); it must not block for long and must not call back
// into this batcher's Shutdown.
// Failure: Enqueue returns kUnavailable (queue full, shutting down) and then never calls `done`;
// a request that times out in the queue gets kUnavailable through `done`; a failing Execute fails
// every request of that batch with the backend's Status.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "model_stats.h"
#include "optic/backend.h"

namespace optic::server {

using Clock = std::chrono::steady_clock;

struct InferRequest {
  using Done = std::function<void(const Status& status, std::vector<Tensor> outputs)>;
  std::string id;
  std::vector<Tensor> inputs;  // in the model's input order; axis 0 is the batch when batching
  int64_t rows = 1;            // batch rows this request carries (1 when the model does not batch)
  uint32_t priority = 0;       // 0: the default level; 1 is the highest
  uint64_t timeout_us = 0;     // 0: the queue policy's default
  std::shared_ptr<const void> keep_alive;
  Clock::time_point arrival = Clock::now();
  Done done;
  // Set by the batcher.
  Clock::time_point enqueued, deadline;
};

struct QueuePolicy {
  uint32_t max_queue_size = 0;  // 0: unbounded
  uint64_t default_timeout_us = 0;
  bool allow_timeout_override = false;
};

struct BatcherOptions {
  int max_batch_size = 0;  // 0: tensors have no batch axis and every request runs alone
  bool dynamic = false;    // merge requests (config has dynamic_batching)
  std::vector<int> preferred_batch_sizes;
  uint64_t max_queue_delay_us = 0;
  uint32_t priority_levels = 0;  // 0 or 1: one level
  uint32_t default_priority = 0;
  std::vector<QueuePolicy> policies;  // one per level (index level-1); a single entry applies to all
};

class DynamicBatcher {
 public:
  static Status Create(const BatcherOptions& options, std::vector<std::unique_ptr<Model>> instances,
                       std::shared_ptr<ModelStats> stats, std::unique_ptr<DynamicBatcher>* out);
  ~DynamicBatcher();  // Shutdown()
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  Status Enqueue(std::unique_ptr<InferRequest> request);
  // Stops accepting, runs everything already queued, waits for running batches, joins threads.
  void Shutdown();
  // Requests queued or running.
  size_t InFlight() const;
  // Runs one warm-up batch on every instance, bypassing the queue; before the model is served.
  Status WarmUp(const std::vector<Tensor>& inputs, int count);

 private:
  struct Instance {
    std::unique_ptr<Model> model;
    std::vector<std::unique_ptr<InferRequest>> batch;
    bool busy = false;
    std::condition_variable cv;
    std::thread thread;
  };
  DynamicBatcher(BatcherOptions options, std::shared_ptr<ModelStats> stats);
  void SchedulerLoop();
  void WorkerLoop(Instance* instance);
  void RunBatch(Model* model, std::vector<std::unique_ptr<InferRequest>>& batch);
  // Under mu_: moves timed-out requests to `expired`; returns the nearest remaining deadline.
  Clock::time_point ExpireLocked(Clock::time_point now,
                                 std::vector<std::unique_ptr<InferRequest>>* expired);
  // Under mu_: how many queued requests (taken in priority order) the next batch holds, or 0 to
  // wait until `*wake`.
  size_t PlanBatchLocked(Clock::time_point now, Clock::time_point* wake) const;
  const QueuePolicy& PolicyFor(uint32_t level) const;
  size_t QueuedLocked() const;

  BatcherOptions options_;
  std::shared_ptr<ModelStats> stats_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // scheduler: new request, idle instance, stop
  std::vector<std::deque<std::unique_ptr<InferRequest>>> queues_;  // [0] = highest priority
  std::vector<std::unique_ptr<Instance>> instances_;
  size_t running_requests_ = 0;
  bool stopping_ = false, workers_stop_ = false, shut_down_ = false;
  std::thread scheduler_;
};

// Converts a config's dynamic batching settings into BatcherOptions (see model_repository.cc).
}  // namespace optic::server
