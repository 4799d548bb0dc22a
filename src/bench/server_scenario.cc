// The server scenario: a generator thread enqueues one-sample queries at seeded Poisson times;
// the measuring thread batches them (up to max_batch, waiting at most max_queue_delay_ms after
// the oldest query's scheduled arrival), copies their rows into a staging batch and executes.
// Each query's latency runs from its scheduled arrival to the end of its batch.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "bench/scenarios.h"
#include "measure/stats.h"

namespace optic::bench {

using Clock = std::chrono::steady_clock;

namespace {

struct Query {
  int64_t index;
  Clock::time_point scheduled;
};

// Queries later than this behind their schedule count as "late": the generator fell behind.
constexpr auto kLateThreshold = std::chrono::milliseconds(1);

class Generator {
 public:
  Generator(double qps, uint64_t seed, Clock::time_point start) : qps_(qps), seed_(seed), start_(start) {}
  void Run() {
    // Schedules are drawn in chunks so memory stays bounded however long the run is.
    int64_t index = 0;
    double offset = 0;
    for (uint64_t chunk = 0; !stop_; ++chunk) {
      std::vector<double> gaps = PoissonArrivals(qps_, 4096, seed_ + chunk);
      double prev = 0;
      for (double t : gaps) {
        offset += t - prev;
        prev = t;
        const auto when = start_ + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(offset));
        std::this_thread::sleep_until(when);
        if (stop_) return;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (Clock::now() - when > kLateThreshold) ++late_;
          ++generated_;
          queue_.push_back({index++, when});
        }
        cv_.notify_one();
      }
    }
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
  }
  // Blocks until at least one query waits, then until max_batch wait or the oldest one's delay
  // is used up; takes up to max_batch.
  std::vector<Query> Take(int max_batch, Clock::duration max_delay) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || stop_; });
    if (queue_.empty()) return {};
    const auto deadline = queue_.front().scheduled + max_delay;
    cv_.wait_until(lock, deadline, [&] { return static_cast<int>(queue_.size()) >= max_batch || stop_; });
    const size_t n = std::min<size_t>(queue_.size(), max_batch);
    std::vector<Query> out(queue_.begin(), queue_.begin() + n);
    queue_.erase(queue_.begin(), queue_.begin() + n);
    return out;
  }
  int64_t late() const { std::lock_guard<std::mutex> l(mu_); return late_; }
  int64_t generated() const { std::lock_guard<std::mutex> l(mu_); return generated_; }
  size_t queued() const { std::lock_guard<std::mutex> l(mu_); return queue_.size(); }

 private:
  const double qps_;
  const uint64_t seed_;
  const Clock::time_point start_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Query> queue_;
  bool stop_ = false;
  int64_t late_ = 0, generated_ = 0;
};

}  // namespace

Status RunServer(Model* model, const InputPool& pool, int max_batch, bool dynamic_batch, double qps,
                 const MeasureSettings& s, SteadyResult* out) {
  *out = SteadyResult();
  if (qps <= 0) return Status::InvalidArgument("server: target qps must be > 0");
  // Staging batch: one tensor per input, filled row by row from the pool.
  std::vector<Tensor> staging;
  for (const Tensor& t : pool.batch(0)) {
    Tensor copy;
    OPTIC_RETURN_IF_ERROR(t.Clone(&copy));
    staging.push_back(copy);
  }
  const auto start = Clock::now();
  Generator gen(qps, s.seed, start);
  std::thread generator([&gen] { gen.Run(); });
  const auto max_delay = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(s.max_queue_delay_ms));
  // The window tracker is the closed loop's; reuse it through a one-sample-per-query view.
  Status status;
  std::vector<Tensor> batch_inputs(staging.size()), outputs;
  std::vector<int64_t> batch_sizes(max_batch + 1, 0);
  MeasureSettings ws = s;
  std::vector<double> window_lat;
  int64_t window_samples = 0;
  auto window_start = start;
  for (;;) {
    std::vector<Query> qs = gen.Take(max_batch, max_delay);
    if (qs.empty()) break;
    const int n = static_cast<int>(qs.size());
    for (size_t k = 0; k < staging.size(); ++k) {
      const size_t row_bytes = staging[k].nbytes() / max_batch;
      for (int r = 0; r < n; ++r) {
        const int64_t i = qs[r].index;
        const Tensor& src = pool.batch(i / max_batch)[k];
        std::memcpy(static_cast<char*>(staging[k].raw()) + r * row_bytes,
                    static_cast<const char*>(src.raw()) + (i % max_batch) * row_bytes, row_bytes);
      }
      if (dynamic_batch) status = staging[k].Slice(0, n, &batch_inputs[k]);
      else batch_inputs[k] = staging[k];
      if (!status.ok()) break;
    }
    if (status.ok()) status = model->Execute(batch_inputs, &outputs);
    if (!status.ok()) break;
    const auto done = Clock::now();
    ++batch_sizes[n];
    out->queries += n;
    out->samples += n;
    window_samples += n;
    for (const Query& q : qs) {
      const double ms = std::chrono::duration<double, std::milli>(done - q.scheduled).count();
      out->latencies_ms.push_back(ms);
      window_lat.push_back(ms);
    }
    const double in_window = std::chrono::duration<double>(done - window_start).count();
    if (in_window >= ws.window() && static_cast<int>(window_lat.size()) >= ws.window_min_queries) {
      std::sort(window_lat.begin(), window_lat.end());
      out->windows.push_back(
          {window_samples / in_window, measure::PercentileOfSorted(window_lat, 50)});
      window_lat.clear();
      window_samples = 0;
      window_start = done;
    }
    out->elapsed_s = std::chrono::duration<double>(done - start).count();
    out->stable = IsStable(out->windows);
    const bool enough = out->elapsed_s >= s.min_duration_s && out->queries >= s.min_samples;
    if ((enough && out->stable) || out->elapsed_s >= s.max_duration_s) break;
  }
  gen.Stop();
  generator.join();
  OPTIC_RETURN_IF_ERROR(status.Prefixed("server"));
  const int64_t generated = gen.generated();
  const double late_fraction = generated ? static_cast<double>(gen.late()) / generated : 0;
  nlohmann::json hist = nlohmann::json::object();
  for (int b = 1; b <= max_batch; ++b) {
    if (batch_sizes[b]) hist[std::to_string(b)] = batch_sizes[b];
  }
  out->server = {{"target_qps", qps},
                 {"achieved_qps", out->throughput_per_s()},
                 {"late_fraction", late_fraction},
                 {"generator_fell_behind", late_fraction > 0.01},
                 {"left_in_queue", gen.queued()},
                 {"max_batch", max_batch},
                 {"max_queue_delay_ms", s.max_queue_delay_ms},
                 {"batch_histogram", hist}};
  return Status::OK();
}

}  // namespace optic::bench
