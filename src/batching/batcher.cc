#include "batching/batcher.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "optic/pipelining.h"

namespace optic::batching {
namespace {

uint64_t Ns(Clock::duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

// Requests merge only when every input has the same dtype and non-batch dimensions.
bool SameRowShape(const Request& a, const Request& b) {
  if (a.inputs.size() != b.inputs.size() || a.bytes.size() != b.bytes.size()) return false;
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    if (i < a.bytes.size() && !a.bytes[i].shape.empty()) {
      const Shape& x = a.bytes[i].shape;
      const Shape& y = b.bytes[i].shape;
      if (x.size() != y.size() || !std::equal(x.begin() + 1, x.end(), y.begin() + 1)) return false;
      continue;
    }
    const Shape& x = a.inputs[i].shape();
    const Shape& y = b.inputs[i].shape();
    if (a.inputs[i].dtype() != b.inputs[i].dtype() || x.size() != y.size() || x.empty()) return false;
    if (!std::equal(x.begin() + 1, x.end(), y.begin() + 1)) return false;
  }
  return true;
}

// Backends may vectorize on their inputs; tensors borrowed from a request body at any offset are
// copied unless suitably aligned.
bool Aligned(const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw()) % 64 == 0; }

// Copies each request's input i into dst, one after another. A large batch (a ResNet-50 request is
// 602 KB of fp32, so 64 of them are 38 MB) is split over a few threads: one thread's memcpy of
// cold memory ran at ~6 GB/s on the H100 machine, milliseconds on the instance's critical path.
void Gather(const std::vector<std::unique_ptr<Request>>& batch, size_t i, char* dst) {
  constexpr size_t kPerThread = size_t{8} << 20;
  constexpr size_t kMaxThreads = 4;
  std::vector<char*> at(batch.size());
  size_t total = 0;
  for (size_t k = 0; k < batch.size(); ++k) {
    at[k] = dst + total;
    total += batch[k]->inputs[i].nbytes();
  }
  const size_t n = std::min({kMaxThreads, batch.size(), std::max<size_t>(1, total / kPerThread)});
  auto copy = [&](size_t part) {
    for (size_t k = part; k < batch.size(); k += n) {
      std::memcpy(at[k], batch[k]->inputs[i].raw(), batch[k]->inputs[i].nbytes());
    }
  };
  std::vector<std::thread> helpers;
  for (size_t part = 1; part < n; ++part) helpers.emplace_back(copy, part);
  copy(0);
  for (auto& t : helpers) t.join();
}

}  // namespace

DynamicBatcher::DynamicBatcher(BatcherOptions options, std::shared_ptr<BatchObserver> observer)
    : options_(std::move(options)), observer_(std::move(observer)) {}

Status DynamicBatcher::Create(const BatcherOptions& options,
                              std::vector<std::unique_ptr<Model>> instances,
                              std::shared_ptr<BatchObserver> observer,
                              std::unique_ptr<DynamicBatcher>* out) {
  return Create(options, std::move(instances), {}, std::move(observer), out);
}

Status DynamicBatcher::Create(const BatcherOptions& options,
                              std::vector<std::unique_ptr<Model>> instances,
                              std::vector<std::unique_ptr<InputStage>> stages,
                              std::shared_ptr<BatchObserver> observer,
                              std::unique_ptr<DynamicBatcher>* out) {
  if (!stages.empty() && stages.size() != instances.size()) {
    return Status::Internal("one input stage per instance expected");
  }
  if (instances.empty()) return Status::InvalidArgument("batcher needs at least one instance");
  if (options.max_batch_size < 0) return Status::InvalidArgument("max_batch_size must be >= 0");
  for (int p : options.preferred_batch_sizes) {
    if (p <= 0 || (options.max_batch_size > 0 && p > options.max_batch_size)) {
      return Status::InvalidArgument("preferred_batch_size " + std::to_string(p) +
                                     " is outside 1..max_batch_size (" +
                                     std::to_string(options.max_batch_size) + ")");
    }
  }
  const uint32_t levels = std::max<uint32_t>(1, options.priority_levels);
  if (options.default_priority > levels) {
    return Status::InvalidArgument("default_priority_level exceeds priority_levels");
  }
  if (options.policies.size() > 1 && options.policies.size() != levels) {
    return Status::InvalidArgument("one queue policy per priority level expected");
  }
  std::unique_ptr<DynamicBatcher> b(new DynamicBatcher(options, std::move(observer)));
  if (!b->observer_) b->observer_ = std::make_shared<BatchObserver>();
  if (b->options_.policies.empty()) b->options_.policies.push_back({});
  b->queues_.resize(levels);
  for (size_t i = 0; i < instances.size(); ++i) {
    auto inst = std::make_unique<Instance>();
    inst->model = std::move(instances[i]);
    if (!stages.empty()) inst->stage = std::move(stages[i]);
    b->instances_.push_back(std::move(inst));
  }
  for (auto& inst : b->instances_) {
    inst->thread = std::thread(&DynamicBatcher::WorkerLoop, b.get(), inst.get());
  }
  b->scheduler_ = std::thread(&DynamicBatcher::SchedulerLoop, b.get());
  *out = std::move(b);
  return Status::OK();
}

DynamicBatcher::~DynamicBatcher() { Shutdown(); }

const QueuePolicy& DynamicBatcher::PolicyFor(uint32_t level) const {
  return options_.policies.size() == 1 ? options_.policies[0] : options_.policies[level - 1];
}

size_t DynamicBatcher::QueuedLocked() const {
  size_t n = 0;
  for (const auto& q : queues_) n += q.size();
  return n;
}

size_t DynamicBatcher::InFlight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return QueuedLocked() + running_requests_;
}

Status DynamicBatcher::Enqueue(std::unique_ptr<Request> request) {
  const uint32_t levels = static_cast<uint32_t>(queues_.size());
  uint32_t level = request->priority == 0 ? std::max<uint32_t>(1, options_.default_priority)
                                          : request->priority;
  if (level > levels) {
    return Status::InvalidArgument("priority " + std::to_string(request->priority) +
                                   " exceeds the model's priority_levels (" +
                                   std::to_string(levels) + ")");
  }
  if (options_.max_batch_size > 0 && request->rows > options_.max_batch_size) {
    return Status::InvalidArgument("batch size " + std::to_string(request->rows) +
                                   " exceeds max_batch_size " +
                                   std::to_string(options_.max_batch_size));
  }
  const QueuePolicy& policy = PolicyFor(level);
  uint64_t timeout = policy.default_timeout_us;
  if (request->timeout_us > 0 && (policy.allow_timeout_override || timeout == 0)) {
    timeout = request->timeout_us;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return Status::Unavailable("model is shutting down");
  auto& q = queues_[level - 1];
  if (policy.max_queue_size > 0 && q.size() >= policy.max_queue_size) {
    return Status::Unavailable("queue full: " + std::to_string(q.size()) +
                               " requests pending (max_queue_size " +
                               std::to_string(policy.max_queue_size) + ")");
  }
  request->enqueued = Clock::now();
  request->deadline = timeout > 0 ? request->enqueued + std::chrono::microseconds(timeout)
                                  : Clock::time_point::max();
  const Clock::time_point deadline = request->deadline;
  q.push_back(std::move(request));
  observer_->AddPending(1);
  WakeSchedulerLocked(std::min(deadline, DispatchLocked(Clock::now(), nullptr)));
  return Status::OK();
}

void DynamicBatcher::WakeSchedulerLocked(Clock::time_point when) {
  if (when < scheduler_wake_) {
    scheduler_wake_ = Clock::time_point::min();
    cv_.notify_one();
  }
}

Clock::time_point DynamicBatcher::DispatchLocked(Clock::time_point now, Instance* self) {
  for (;;) {
    if (QueuedLocked() == 0) return Clock::time_point::max();
    Instance* idle = self != nullptr && !self->busy ? self : nullptr;
    for (size_t k = 0; idle == nullptr && k < instances_.size(); ++k) {
      if (!instances_[k]->busy) idle = instances_[k].get();
    }
    if (idle == nullptr) return Clock::time_point::max();  // a finishing worker dispatches
    Clock::time_point wake = Clock::time_point::max();
    const size_t take = PlanBatchLocked(now, &wake);
    if (take == 0) return wake;
    std::vector<std::unique_ptr<Request>> batch;
    batch.reserve(take);
    for (auto& q : queues_) {
      while (batch.size() < take && !q.empty()) {
        batch.push_back(std::move(q.front()));
        q.pop_front();
      }
    }
    observer_->AddPending(-static_cast<int>(batch.size()));
    running_requests_ += batch.size();
    idle->busy = true;
    idle->batch = std::move(batch);
    if (idle != self) idle->cv.notify_one();
  }
}

Clock::time_point DynamicBatcher::ExpireLocked(
    Clock::time_point now, std::vector<std::unique_ptr<Request>>* expired) {
  Clock::time_point next = Clock::time_point::max();
  for (auto& q : queues_) {
    for (auto it = q.begin(); it != q.end();) {
      if ((*it)->deadline <= now) {
        expired->push_back(std::move(*it));
        it = q.erase(it);
      } else {
        next = std::min(next, (*it)->deadline);
        ++it;
      }
    }
  }
  return next;
}

size_t DynamicBatcher::PlanBatchLocked(Clock::time_point now, Clock::time_point* wake) const {
  if (!options_.dynamic || options_.max_batch_size == 0) return 1;
  // Candidate: requests in priority order while they fit and match the first one's shape.
  const Request* head = nullptr;
  int64_t rows = 0;
  size_t count = 0;
  bool blocked = false;  // a queued request could not join: waiting will not grow this batch
  Clock::time_point oldest = Clock::time_point::max();
  std::vector<int64_t> prefix_rows;
  for (const auto& q : queues_) {
    for (const auto& r : q) {
      if (head == nullptr) head = r.get();
      if (rows + r->rows > options_.max_batch_size || !SameRowShape(*head, *r)) {
        blocked = true;
        break;
      }
      rows += r->rows;
      ++count;
      prefix_rows.push_back(rows);
      oldest = std::min(oldest, r->enqueued);
    }
    if (blocked) break;
  }
  const auto& pref = options_.preferred_batch_sizes;
  const int64_t max_pref = pref.empty() ? 0 : *std::max_element(pref.begin(), pref.end());
  bool send = blocked || stopping_ || rows >= options_.max_batch_size ||
              (max_pref > 0 && rows >= max_pref);
  const auto delay_end = oldest + std::chrono::microseconds(options_.max_queue_delay_us);
  if (!send && (options_.max_queue_delay_us == 0 ? pref.empty() : now >= delay_end)) send = true;
  if (!send) {
    // Without a delay but with preferred sizes, Triton waits only for a preferred size; cap the
    // wait at the delay (0 -> dispatch now when no preferred size can be reached).
    if (options_.max_queue_delay_us == 0) return count;
    *wake = delay_end;
    return 0;
  }
  // Prefer the largest prefix whose size is a preferred batch size.
  for (size_t i = prefix_rows.size(); i-- > 0;) {
    if (std::find(pref.begin(), pref.end(), prefix_rows[i]) != pref.end()) return i + 1;
  }
  return count;
}

void DynamicBatcher::SchedulerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    std::vector<std::unique_ptr<Request>> expired;
    const auto now = Clock::now();
    const Clock::time_point deadline = ExpireLocked(now, &expired);
    if (!expired.empty()) {
      observer_->AddPending(-static_cast<int>(expired.size()));
      lock.unlock();
      for (auto& r : expired) {
        r->done(Status::Unavailable("request timed out in the queue after " +
                                    std::to_string(Ns(now - r->enqueued) / 1000) + " us"),
                {});
      }
      lock.lock();
      continue;
    }
    const Clock::time_point wake = std::min(deadline, DispatchLocked(now, nullptr));
    if (stopping_ && QueuedLocked() == 0) return;
    scheduler_wake_ = wake;
    if (wake == Clock::time_point::max()) cv_.wait(lock);
    else cv_.wait_until(lock, wake);
    scheduler_wake_ = Clock::time_point::min();
  }
}

void DynamicBatcher::WorkerLoop(Instance* inst) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    inst->cv.wait(lock, [&] { return !inst->batch.empty() || inst->task || workers_stop_; });
    if (inst->task) {
      std::function<void()> task = std::move(inst->task);
      inst->task = nullptr;
      // WarmUp set busy, but a served batch that was still finishing when it was called has
      // cleared it since; WarmUp waits on busy, so it must hold until the task is done.
      inst->busy = true;
      lock.unlock();
      task();
      lock.lock();
      inst->busy = !inst->batch.empty();  // a batch handed over meanwhile is next
      WakeSchedulerLocked(DispatchLocked(Clock::now(), inst));
      idle_cv_.notify_all();
      continue;
    }
    if (inst->batch.empty()) return;
    // Run batches back to back while the queue holds ready ones: no sleep, no handoff.
    while (!inst->batch.empty()) {
      auto batch = std::move(inst->batch);
      inst->batch.clear();
      lock.unlock();
      const size_t n = batch.size();
      RunBatch(inst, batch);
      lock.lock();
      running_requests_ -= n;
      inst->busy = false;
      WakeSchedulerLocked(DispatchLocked(Clock::now(), inst));
    }
    if (stopping_ && QueuedLocked() == 0) WakeSchedulerLocked(Clock::time_point::min());
    if (running_requests_ == 0) idle_cv_.notify_all();
  }
}

void DynamicBatcher::RunBatch(Instance* inst, std::vector<std::unique_ptr<Request>>& batch) {
  Model* model = inst->model.get();
  const auto t0 = Clock::now();
  for (auto& r : batch) observer_->RecordQueue(Ns(t0 - r->enqueued));
  Status status;
  std::vector<Tensor> inputs;
  if (inst->stage) {
    // Requests whose images fail are answered now; the rest run as one batch.
    std::vector<Status> failures(batch.size());
    status = inst->stage->Prepare(batch, &inputs, &failures);
    if (status.ok()) {
      std::vector<std::unique_ptr<Request>> kept;
      for (size_t k = 0; k < batch.size(); ++k) {
        if (failures[k].ok()) {
          kept.push_back(std::move(batch[k]));
        } else {
          batch[k]->done(failures[k], {});
        }
      }
      batch = std::move(kept);
      if (batch.empty()) return;
    }
  }
  int64_t rows = 0;
  for (auto& r : batch) rows += r->rows;
  const Request& head = *batch.front();
  for (size_t i = 0; !inst->stage && i < head.inputs.size() && status.ok(); ++i) {
    if (batch.size() == 1 && Aligned(head.inputs[i])) {
      inputs.push_back(head.inputs[i]);
      continue;
    }
    Shape shape = head.inputs[i].shape();
    if (batch.size() > 1) shape[0] = rows;
    Tensor t;
    status = BatchBuffer(inst, i, head.inputs[i].dtype(), shape, &t);
    if (!status.ok()) break;
    Gather(batch, i, static_cast<char*>(t.raw()));
    inputs.push_back(std::move(t));
  }
  const auto t1 = Clock::now();
  std::vector<Tensor> outputs;
  if (status.ok()) status = model->Execute(inputs, &outputs);
  const auto t2 = Clock::now();
  std::vector<std::vector<Tensor>> per_request(batch.size());
  if (status.ok() && options_.max_batch_size > 0) {
    for (const Tensor& out : outputs) {
      if (out.rank() == 0 || out.dim(0) != rows) {
        status = Status::Internal("model returned output " + out.DebugString() +
                                  " whose first dimension is not the batch size " +
                                  std::to_string(rows));
        break;
      }
    }
    int64_t begin = 0;
    for (size_t k = 0; k < batch.size() && status.ok(); ++k) {
      for (const Tensor& out : outputs) {
        Tensor view;
        status = out.Slice(begin, begin + batch[k]->rows, &view);
        if (!status.ok()) break;
        per_request[k].push_back(std::move(view));
      }
      begin += batch[k]->rows;
    }
  } else if (status.ok()) {
    per_request[0] = std::move(outputs);
  }
  const auto t3 = Clock::now();
  observer_->RecordExecution(rows, Ns(t1 - t0), Ns(t2 - t1), Ns(t3 - t2));
  for (size_t k = 0; k < batch.size(); ++k) {
    if (status.ok()) observer_->RecordCompute(Ns(t1 - t0), Ns(t2 - t1), Ns(t3 - t2));
    batch[k]->done(status, std::move(per_request[k]));
  }
}

Status DynamicBatcher::BatchBuffer(Instance* inst, size_t i, DType dtype, const Shape& shape,
                                   Tensor* out) {
  auto* pipelined = options_.page_locked_batches
                        ? dynamic_cast<PipelinedExecution*>(inst->model.get())
                        : nullptr;
  if (!pipelined || shape.empty()) return Tensor::Empty(dtype, shape, out);
  // Page-locked memory the model uploads from directly (no staging copy), one buffer per input
  // sized for the largest batch and reused: the instance runs one batch at a time and Execute has
  // finished its upload when it returns.
  if (inst->pinned.size() <= i) inst->pinned.resize(i + 1);
  Tensor& buf = inst->pinned[i];
  const bool fits = buf.nbytes() > 0 && buf.dtype() == dtype && buf.rank() == shape.size() &&
                    buf.dim(0) >= shape[0] &&
                    std::equal(shape.begin() + 1, shape.end(), buf.shape().begin() + 1);
  if (!fits) {
    Shape capacity = shape;
    capacity[0] = std::max<int64_t>(shape[0], options_.max_batch_size);
    Tensor fresh;
    if (!pipelined->AllocateHostInput(dtype, capacity, &fresh).ok()) {
      return Tensor::Empty(dtype, shape, out);  // pageable: the model stages it itself
    }
    buf = std::move(fresh);
  }
  return buf.Slice(0, shape[0], out);
}

Status DynamicBatcher::WarmUpInstance(Instance* inst, const std::vector<WarmUpBatch>& plan,
                                      const WarmUpInputs& make_inputs) {
  for (const WarmUpBatch& w : plan) {
    std::vector<Tensor> inputs;
    Status s = inst->stage ? inst->stage->WarmUpInputs(w.rows, &inputs) : make_inputs(w.rows, &inputs);
    for (int i = 0; s.ok() && i < w.count; ++i) {
      std::vector<Tensor> outputs;
      s = inst->model->Execute(inputs, &outputs);
    }
    if (!s.ok()) return s.Prefixed("warm-up batch of " + std::to_string(w.rows));
  }
  return Status::OK();
}

Status DynamicBatcher::WarmUp(const std::vector<WarmUpBatch>& plan, const WarmUpInputs& make_inputs) {
  std::vector<Status> results(instances_.size());
  std::unique_lock<std::mutex> lock(mu_);
  for (size_t k = 0; k < instances_.size(); ++k) {
    Instance* inst = instances_[k].get();
    // Not served yet, so no batch is queued or running: the scheduler leaves a busy instance alone.
    inst->busy = true;
    inst->task = [this, inst, &plan, &make_inputs, &results, k] {
      results[k] = WarmUpInstance(inst, plan, make_inputs);
    };
    inst->cv.notify_one();
  }
  idle_cv_.wait(lock, [&] {
    for (const auto& inst : instances_) {
      if (inst->task || inst->busy) return false;
    }
    return true;
  });
  lock.unlock();
  for (size_t k = 0; k < results.size(); ++k) {
    if (!results[k].ok()) {
      return instances_.size() > 1 ? results[k].Prefixed("instance " + std::to_string(k)) : results[k];
    }
  }
  return Status::OK();
}

void DynamicBatcher::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    stopping_ = true;
    cv_.notify_all();
  }
  if (scheduler_.joinable()) scheduler_.join();
  {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [&] { return running_requests_ == 0; });
    workers_stop_ = true;
    for (auto& inst : instances_) inst->cv.notify_one();
  }
  for (auto& inst : instances_) {
    if (inst->thread.joinable()) inst->thread.join();
  }
}

}  // namespace optic::batching
