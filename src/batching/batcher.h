// The dynamic batcher, the one of `optic serve` (each model version's) and of
// `optic bench --scenario server`: a bounded priority queue, batches formed by one rule (max batch
// size, preferred batch sizes, max queue delay) and N model instances, each with its own worker
// thread, so an instance never runs two batches at once.
// Dispatch costs one thread handoff at most: Enqueue hands a ready batch straight to an idle
// instance's worker, and a worker that finishes a batch takes the next one itself, without
// sleeping. The scheduler thread wakes only for time: a batch waiting out its queue delay and
// request timeouts (so a busy server does not wake it once per request).
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

#include <string>
#include <string_view>

#include "optic/backend.h"

namespace optic::batching {

using Clock = std::chrono::steady_clock;

// A BYTES tensor: its shape and one byte string per element (row-major). The elements borrow
// from the request body (binary extension, gRPC) or from `owned` (JSON strings, base64-decoded),
// which a copy of this struct keeps alive.
struct BytesInput {
  Shape shape;
  std::vector<std::string_view> elements;
  std::shared_ptr<const std::vector<std::string>> owned;
};

// What the batcher reports as it works, for statistics (the server's per-model statistics, the
// bench's batch-size histogram). Called from the batcher's threads, concurrently: an observer
// locks what it shares. Durations in nanoseconds.
class BatchObserver {
 public:
  virtual ~BatchObserver() = default;
  // Requests entering (+n) or leaving (-n) the queue.
  virtual void AddPending(int delta) { (void)delta; }
  // One request leaving the queue after `queue_ns`.
  virtual void RecordQueue(uint64_t queue_ns) { (void)queue_ns; }
  // One executed batch of `rows` rows: gathering its inputs, Execute, slicing its outputs.
  virtual void RecordExecution(int64_t rows, uint64_t input_ns, uint64_t infer_ns, uint64_t output_ns) {
    (void)rows, (void)input_ns, (void)infer_ns, (void)output_ns;
  }
  // One successful request's share of its batch (called once per request of the batch).
  virtual void RecordCompute(uint64_t input_ns, uint64_t infer_ns, uint64_t output_ns) {
    (void)input_ns, (void)infer_ns, (void)output_ns;
  }
};

struct Request {
  using Done = std::function<void(const Status& status, std::vector<Tensor> outputs)>;
  std::string id;
  std::vector<Tensor> inputs;  // in the model's input order; axis 0 is the batch when batching
  std::vector<BytesInput> bytes;  // parallel to `inputs` where the served input is BYTES
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
  // Gather merged batches into each instance's reused page-locked buffer when its model offers
  // one (PipelinedExecution). Only for accelerator instances, whose outputs are fresh host copies:
  // a CPU model's output may alias its input, which the next batch would overwrite.
  bool page_locked_batches = false;
};

// Builds a model's input tensors from a batch of requests whose served inputs are not the model's
// own (JPEG bytes decoded into an image tensor). One per instance, used only by its worker.
// Failure: a request whose data cannot be used gets its own Status in (*failures)[k] and no rows
// in *inputs (the other requests run); a non-OK return fails the whole batch.
class InputStage {
 public:
  virtual ~InputStage() = default;
  virtual Status Prepare(const std::vector<std::unique_ptr<Request>>& batch,
                         std::vector<Tensor>* inputs, std::vector<Status>* failures) = 0;
  // Model inputs for a warm-up batch of n rows (zero-filled).
  virtual Status WarmUpInputs(int64_t n, std::vector<Tensor>* inputs) = 0;
};

class DynamicBatcher {
 public:
  static Status Create(const BatcherOptions& options, std::vector<std::unique_ptr<Model>> instances,
                       std::shared_ptr<BatchObserver> observer, std::unique_ptr<DynamicBatcher>* out);
  // Same, with one InputStage per instance (or an empty vector for none).
  static Status Create(const BatcherOptions& options, std::vector<std::unique_ptr<Model>> instances,
                       std::vector<std::unique_ptr<InputStage>> stages,
                       std::shared_ptr<BatchObserver> observer, std::unique_ptr<DynamicBatcher>* out);
  ~DynamicBatcher();  // Shutdown()
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  Status Enqueue(std::unique_ptr<Request> request);
  // Stops accepting, runs everything already queued, waits for running batches, joins threads.
  void Shutdown();
  // Requests queued or running.
  size_t InFlight() const;
  // Runs the warm-up plan on every instance, bypassing the queue, before the model is served: on
  // each instance's own worker thread (libtorch keeps cuDNN execution plans and TorchScript
  // executor state per thread, so a batch shape first run on another thread is planned again on
  // the worker's first real batch: 50-90 ms a shape for ResNet-50 on an H100), all instances at
  // once. Inputs come from the instance's stage when it has one, else from `make_inputs(rows)`.
  // Returns the first failure, naming the instance and batch size.
  struct WarmUpBatch {
    int64_t rows = 1;
    int count = 1;
  };
  using WarmUpInputs = std::function<Status(int64_t rows, std::vector<Tensor>* inputs)>;
  Status WarmUp(const std::vector<WarmUpBatch>& plan, const WarmUpInputs& make_inputs);
  bool staged() const { return !instances_.empty() && instances_[0]->stage != nullptr; }

 private:
  struct Instance {
    std::unique_ptr<Model> model;
    std::unique_ptr<InputStage> stage;  // may be null
    std::vector<std::unique_ptr<Request>> batch;
    bool busy = false;
    std::function<void()> task;  // warm-up work for this instance's thread; busy while set
    std::vector<Tensor> pinned;  // per input: page-locked batch buffer (BatchBuffer), worker only
    std::condition_variable cv;
    std::thread thread;
  };
  DynamicBatcher(BatcherOptions options, std::shared_ptr<BatchObserver> observer);
  void SchedulerLoop();
  void WorkerLoop(Instance* instance);
  void RunBatch(Instance* inst, std::vector<std::unique_ptr<Request>>& batch);
  // Where a merged batch's input i is gathered: a view of the instance's page-locked buffer when
  // the model uploads from one (PipelinedExecution::AllocateHostInput), else ordinary memory.
  Status BatchBuffer(Instance* inst, size_t i, DType dtype, const Shape& shape, Tensor* out);
  Status WarmUpInstance(Instance* inst, const std::vector<WarmUpBatch>& plan,
                        const WarmUpInputs& make_inputs);
  // Under mu_: moves timed-out requests to `expired`; returns the nearest remaining deadline.
  Clock::time_point ExpireLocked(Clock::time_point now,
                                 std::vector<std::unique_ptr<Request>>* expired);
  // Under mu_: how many queued requests (taken in priority order) the next batch holds, or 0 to
  // wait until `*wake`.
  size_t PlanBatchLocked(Clock::time_point now, Clock::time_point* wake) const;
  // Under mu_: hands batches to idle instances (`self` first: a worker that just finished takes
  // its next batch without sleeping) while the plan says send; notifies every other instance it
  // gave work. Returns when the scheduler must look again for a batch held by its queue delay
  // (max: never).
  Clock::time_point DispatchLocked(Clock::time_point now, Instance* self);
  // Under mu_: wakes the scheduler when `when` is before the time it sleeps until.
  void WakeSchedulerLocked(Clock::time_point when);
  const QueuePolicy& PolicyFor(uint32_t level) const;
  size_t QueuedLocked() const;

  BatcherOptions options_;
  std::shared_ptr<BatchObserver> observer_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // scheduler: an earlier deadline or queue-delay end, stop
  std::condition_variable idle_cv_;  // WarmUp and Shutdown: a warm-up task or the last batch done
  // When the sleeping scheduler wakes by itself (max: only when notified; min: it is awake and
  // looks at the queue before it sleeps again, so it needs no notification).
  Clock::time_point scheduler_wake_ = Clock::time_point::min();
  std::vector<std::deque<std::unique_ptr<Request>>> queues_;  // [0] = highest priority
  std::vector<std::unique_ptr<Instance>> instances_;
  size_t running_requests_ = 0;
  bool stopping_ = false, workers_stop_ = false, shut_down_ = false;
  std::thread scheduler_;
};

}  // namespace optic::batching
