// The server scenario: one-sample queries arrive at their scheduled times (seeded Poisson for
// RunServer) and are enqueued on the dynamic batcher `optic serve` runs (batching/batcher.h: max
// batch, max queue delay, one instance with its own worker thread); the batcher gathers their rows
// and executes. Each query's latency runs from its scheduled arrival to the end of its batch. The
// batch-size histogram comes from the batcher's observer.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "batching/batcher.h"
#include "bench/scenarios.h"
#include "measure/stats.h"

namespace optic::bench {

using Clock = std::chrono::steady_clock;

namespace {

// Queries later than this behind their schedule count as "late": the generator fell behind.
constexpr auto kLateThreshold = std::chrono::milliseconds(1);

// The cell's model as the batcher's one instance (borrowed, not owned). A model without dynamic
// batch gets partial batches padded to max_batch and its outputs cut back to the batch's rows.
// Once the measurement has ended, batches still queued fail at once instead of running.
class ScenarioModel : public Model {
 public:
  ScenarioModel(Model* model, int max_batch, bool dynamic, const std::atomic<bool>* ended)
      : model_(model), max_batch_(max_batch), dynamic_(dynamic), ended_(ended) {}
  const std::vector<TensorInfo>& inputs() const override { return model_->inputs(); }
  const std::vector<TensorInfo>& outputs() const override { return model_->outputs(); }
  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    if (ended_->load()) return Status::Unavailable("server: the measurement has ended");
    const int64_t rows = inputs.empty() || inputs[0].rank() == 0 ? max_batch_ : inputs[0].dim(0);
    if (dynamic_ || rows == max_batch_) return model_->Execute(inputs, outputs);
    if (staging_.empty()) {
      for (const Tensor& t : inputs) {
        Shape shape = t.shape();
        shape[0] = max_batch_;
        Tensor s;
        OPTIC_RETURN_IF_ERROR(Tensor::Empty(t.dtype(), shape, &s));
        std::memset(s.raw(), 0, s.nbytes());
        staging_.push_back(s);
      }
    }
    for (size_t k = 0; k < inputs.size(); ++k) std::memcpy(staging_[k].raw(), inputs[k].raw(), inputs[k].nbytes());
    std::vector<Tensor> padded_out;
    OPTIC_RETURN_IF_ERROR(model_->Execute(staging_, &padded_out));
    outputs->clear();
    for (const Tensor& o : padded_out) {
      Tensor view;
      OPTIC_RETURN_IF_ERROR(o.Slice(0, rows, &view));
      outputs->push_back(view);
    }
    return Status::OK();
  }

 private:
  Model* model_;
  const int max_batch_;
  const bool dynamic_;
  const std::atomic<bool>* ended_;
  std::vector<Tensor> staging_;  // per input, max_batch rows; used by the batcher's one worker
};

// The measurement, fed by the batcher: each executed batch (RecordExecution, on the instance's
// worker, just before that batch's completions) and each query's completion. The steady-state
// rules are checked at the end of each batch, as the closed loop checks them after each query.
class ServerTally : public batching::BatchObserver {
 public:
  ServerTally(const MeasureSettings& s, int max_batch, Clock::time_point start, SteadyResult* out)
      : s_(s), start_(start), window_start_(start), out_(out), batch_sizes_(max_batch + 1, 0) {}

  void RecordExecution(int64_t rows, uint64_t, uint64_t, uint64_t) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return;
    if (rows >= 0 && rows < static_cast<int64_t>(batch_sizes_.size())) ++batch_sizes_[rows];
    batch_left_ = rows;
    batch_done_ = Clock::now();
  }

  void Complete(const Status& st, Clock::time_point scheduled) {
    std::lock_guard<std::mutex> lock(mu_);
    ++completed_;
    if (ended_) return End(lock);
    if (!st.ok()) {
      status_ = st;
      return End(lock);
    }
    const double ms = std::chrono::duration<double, std::milli>(batch_done_ - scheduled).count();
    out_->latencies_ms.push_back(ms);
    window_lat_.push_back(ms);
    ++out_->queries;
    ++out_->samples;
    ++window_samples_;
    if (--batch_left_ > 0) return;
    const double in_window = std::chrono::duration<double>(batch_done_ - window_start_).count();
    if (in_window >= s_.window() && static_cast<int>(window_lat_.size()) >= s_.window_min_queries) {
      std::sort(window_lat_.begin(), window_lat_.end());
      out_->windows.push_back({window_samples_ / in_window, measure::PercentileOfSorted(window_lat_, 50)});
      window_lat_.clear();
      window_samples_ = 0;
      window_start_ = batch_done_;
    }
    out_->elapsed_s = std::chrono::duration<double>(batch_done_ - start_).count();
    out_->stable = measure::IsStable(out_->windows);
    const bool enough = out_->elapsed_s >= s_.min_duration_s && out_->queries >= s_.min_samples;
    if ((enough && out_->stable) || out_->elapsed_s >= s_.max_duration_s) End(lock);
    else if (completed_ == enqueued_ && no_more_) End(lock);
  }

  void Enqueued() {
    std::lock_guard<std::mutex> lock(mu_);
    ++enqueued_;
  }
  // The arrival process has no more queries: the measurement ends with the last completion.
  void NoMore() {
    std::lock_guard<std::mutex> lock(mu_);
    no_more_ = true;
    if (completed_ == enqueued_) End(lock);
  }
  void EndNow() {
    std::lock_guard<std::mutex> lock(mu_);
    End(lock);
  }
  // Waits until the measurement has ended.
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return ended_; });
  }
  const std::atomic<bool>* ended_flag() const { return &ended_flag_; }
  bool ended() const { return ended_flag_.load(); }
  Status status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  std::vector<int64_t> batch_sizes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_sizes_;
  }

 private:
  void End(const std::lock_guard<std::mutex>&) { EndLocked(); }
  void End(const std::unique_lock<std::mutex>&) { EndLocked(); }
  void EndLocked() {
    ended_ = true;
    ended_flag_ = true;
    cv_.notify_all();
  }

  const MeasureSettings s_;
  const Clock::time_point start_;
  Clock::time_point window_start_, batch_done_;
  SteadyResult* out_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> batch_sizes_;
  std::vector<double> window_lat_;
  int64_t window_samples_ = 0, batch_left_ = 0, enqueued_ = 0, completed_ = 0;
  bool ended_ = false, no_more_ = false;
  std::atomic<bool> ended_flag_{false};
  Status status_;
};

}  // namespace

Status RunServerArrivals(Model* model, const InputPool& pool, int max_batch, bool dynamic_batch,
                         const ArrivalFn& arrivals, const MeasureSettings& s, SteadyResult* out) {
  *out = SteadyResult();
  if (max_batch < 1) return Status::InvalidArgument("server: the batch size must be >= 1");
  const auto start = Clock::now();
  auto tally = std::make_shared<ServerTally>(s, max_batch, start, out);
  batching::BatcherOptions options;
  options.max_batch_size = max_batch;
  options.dynamic = true;
  options.max_queue_delay_us = static_cast<uint64_t>(std::max(0.0, s.max_queue_delay_ms) * 1e3);
  std::vector<std::unique_ptr<Model>> instances;
  instances.push_back(std::make_unique<ScenarioModel>(model, max_batch, dynamic_batch, tally->ended_flag()));
  std::unique_ptr<batching::DynamicBatcher> batcher;
  OPTIC_RETURN_IF_ERROR(batching::DynamicBatcher::Create(options, std::move(instances), tally, &batcher)
                            .Prefixed("server"));
  // The generator: this thread sleeps until each query's scheduled time and enqueues it.
  Status status;
  int64_t generated = 0, late = 0;
  double offset = 0;
  for (int64_t i = 0; !tally->ended(); ++i) {
    if (!arrivals(i, &offset)) {
      tally->NoMore();
      break;
    }
    const auto when = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(offset));
    std::this_thread::sleep_until(when);
    if (tally->ended()) break;
    if (Clock::now() - when > kLateThreshold) ++late;
    ++generated;
    auto r = std::make_unique<batching::Request>();
    r->id = std::to_string(i);
    for (const Tensor& t : pool.batch(i / max_batch)) {
      Tensor row;
      status = t.Slice(i % max_batch, i % max_batch + 1, &row);
      if (!status.ok()) break;
      r->inputs.push_back(row);
    }
    if (!status.ok()) break;
    r->arrival = when;
    r->done = [tally, when](const Status& st, std::vector<Tensor>) { tally->Complete(st, when); };
    tally->Enqueued();
    status = batcher->Enqueue(std::move(r));
    if (!status.ok()) break;
  }
  if (!status.ok()) tally->EndNow();
  tally->Wait();
  const size_t left = batcher->InFlight();
  batcher->Shutdown();  // what is left fails at once (ScenarioModel), without running
  OPTIC_RETURN_IF_ERROR(status.Prefixed("server"));
  OPTIC_RETURN_IF_ERROR(tally->status().Prefixed("server"));
  const double late_fraction = generated ? static_cast<double>(late) / generated : 0;
  nlohmann::json hist = nlohmann::json::object();
  const std::vector<int64_t> sizes = tally->batch_sizes();
  for (int b = 1; b <= max_batch; ++b) {
    if (sizes[b]) hist[std::to_string(b)] = sizes[b];
  }
  out->server = {{"achieved_qps", out->throughput_per_s()},
                 {"late_fraction", late_fraction},
                 {"generator_fell_behind", late_fraction > 0.01},
                 {"left_in_queue", left},
                 {"max_batch", max_batch},
                 {"max_queue_delay_ms", s.max_queue_delay_ms},
                 {"batch_histogram", hist}};
  return Status::OK();
}

Status RunServer(Model* model, const InputPool& pool, int max_batch, bool dynamic_batch, double qps,
                 const MeasureSettings& s, SteadyResult* out) {
  *out = SteadyResult();
  if (qps <= 0) return Status::InvalidArgument("server: target qps must be > 0");
  // Seeded Poisson offsets, drawn in chunks so memory stays bounded however long the run is.
  std::vector<double> chunk;
  int64_t chunk_index = -1;
  double chunk_base = 0;
  ArrivalFn poisson = [&](int64_t i, double* offset_s) {
    constexpr int64_t kChunk = 4096;
    if (i / kChunk != chunk_index) {
      if (!chunk.empty()) chunk_base += chunk.back();
      chunk_index = i / kChunk;
      chunk = measure::PoissonArrivals(qps, kChunk, s.seed + static_cast<uint64_t>(chunk_index));
    }
    *offset_s = chunk_base + chunk[static_cast<size_t>(i % kChunk)];
    return true;
  };
  OPTIC_RETURN_IF_ERROR(RunServerArrivals(model, pool, max_batch, dynamic_batch, poisson, s, out));
  out->server["target_qps"] = qps;
  return Status::OK();
}

}  // namespace optic::bench
