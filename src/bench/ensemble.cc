// The co-located ensemble cell (the seeds' finding: models loaded side by side can run faster
// concurrently than one after another). Members share the cell's backend, precision, threads and
// batch; each query runs every member on the same batch and averages their first outputs.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "bench/cell_load.h"
#include "bench/cell.h"
#include "bench/pool.h"
#include "bench/results.h"
#include "bench/scenarios.h"
#include "measure/stats.h"

namespace optic::bench {

using nlohmann::json;

namespace {

// One long-lived thread per member, so a concurrent query costs a wake-up, not thread creation:
// libtorch keeps per-thread state (cuDNN v8's benchmark cache of execution plans is
// thread_local), and a fresh thread per query re-tuned every convolution (the H200 ensemble ran
// at 0.03-0.17x of sequential that way, results/nvidia-h200/run-2026-11-22d).
class MemberWorkers {
 public:
  using Job = std::function<Status(size_t member, int64_t query)>;
  MemberWorkers(size_t n, Job job) : job_(std::move(job)), status_(n) {
    for (size_t m = 0; m < n; ++m) threads_.emplace_back([this, m] { Loop(m); });
  }
  ~MemberWorkers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  // Runs query `i` on every member at once; returns when all are done.
  std::vector<Status> Run(int64_t i) {
    std::unique_lock<std::mutex> lock(mu_);
    query_ = i;
    pending_ = threads_.size();
    ++generation_;
    wake_.notify_all();
    done_.wait(lock, [&] { return pending_ == 0; });
    return status_;
  }

 private:
  void Loop(size_t m) {
    uint64_t seen = 0;
    for (;;) {
      int64_t i;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        i = query_;
      }
      Status st = job_(m, i);
      std::lock_guard<std::mutex> lock(mu_);
      status_[m] = std::move(st);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  Job job_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::vector<Status> status_;
  std::vector<std::thread> threads_;
  uint64_t generation_ = 0;
  size_t pending_ = 0;
  int64_t query_ = 0;
  bool stop_ = false;
};


// outputs[m] = member m's outputs; *avg = elementwise mean of their first outputs.
Status Average(const std::vector<std::vector<Tensor>>& outputs, Tensor* avg) {
  const Tensor& first = outputs[0].at(0);
  OPTIC_RETURN_IF_ERROR(Tensor::Empty(DType::kFP32, first.shape(), avg));
  float* a = avg->data<float>();
  std::fill(a, a + avg->numel(), 0.0f);
  for (const auto& out : outputs) {
    const Tensor& t = out.at(0);
    if (t.numel() != avg->numel()) {
      return Status::InvalidArgument("ensemble members' outputs differ in shape: " +
                                     ShapeToString(t.shape()) + " vs " + ShapeToString(first.shape()));
    }
    for (int64_t i = 0; i < t.numel(); ++i) a[i] += static_cast<float>(t.GetAsDouble(i));
  }
  const float inv = 1.0f / static_cast<float>(outputs.size());
  for (int64_t i = 0; i < avg->numel(); ++i) a[i] *= inv;
  return Status::OK();
}

}  // namespace

Status RunEnsembleCell(const CellSpec& c, CellReporter* rep, std::vector<results::Row>* rows) {
  results::Row* row = &rows->at(0);
  if (c.members.size() < 2) return Status::InvalidArgument("an ensemble needs at least 2 members");
  std::vector<LoadedModel> members(c.members.size());
  double cold_total = 0;
  for (size_t m = 0; m < members.size(); ++m) {
    OPTIC_RETURN_IF_ERROR(LoadWithPhases(c, c.members[m], rep, &members[m]).Prefixed(c.members[m]));
    cold_total += members[m].cold_s;
  }
  row->load_cold_s = cold_total;
  rep->Phase("inputs");
  // All members see the same images, so one pool (in the first member's input layout) serves all.
  InputPool pool;
  OPTIC_RETURN_IF_ERROR(InputPool::Make(members[0].model->inputs(), c.batch_size, c.settings, &pool));
  std::vector<std::vector<Tensor>> outs(members.size());
  Tensor seq_avg, con_avg;
  QueryFn sequential = [&](int64_t i) {
    for (size_t m = 0; m < members.size(); ++m) {
      OPTIC_RETURN_IF_ERROR(members[m].model->Execute(pool.batch(i), &outs[m]).Prefixed(c.members[m]));
    }
    return Average(outs, &seq_avg);
  };
  MemberWorkers workers(members.size(), [&](size_t m, int64_t i) {
    return members[m].model->Execute(pool.batch(i), &outs[m]);
  });
  QueryFn concurrent = [&](int64_t i) {
    const std::vector<Status> status = workers.Run(i);
    for (size_t m = 0; m < members.size(); ++m) OPTIC_RETURN_IF_ERROR(status[m].Prefixed(c.members[m]));
    return Average(outs, &con_avg);
  };

  rep->Phase("first_inference");
  auto t0 = std::chrono::steady_clock::now();
  OPTIC_RETURN_IF_ERROR(sequential(0));
  row->first_inference_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  // Correctness: the concurrent run must give the sequential run's averaged predictions.
  rep->Phase("check");
  OPTIC_RETURN_IF_ERROR(concurrent(0));
  TensorDiff diff;
  OPTIC_RETURN_IF_ERROR(CompareTensors(con_avg, seq_avg, &diff));

  // Each mode is its own row with its own steady state's meters.
  results::Row seq_row = *row, con_row = *row;
  SteadyResult seq, con;
  int64_t runs;
  double mean_ms;
  rep->Phase("warmup_sequential");
  OPTIC_RETURN_IF_ERROR(Warmup(sequential, c.settings, &runs, &mean_ms));
  OPTIC_RETURN_IF_ERROR(MeasureSteady(c, "steady_sequential", rep, &seq_row, [&](SteadyMeters*, SteadyResult* out) {
    return RunClosedLoop(sequential, c.batch_size, c.settings, out);
  }, &seq));
  rep->Phase("warmup_concurrent");
  OPTIC_RETURN_IF_ERROR(Warmup(concurrent, c.settings, &runs, &mean_ms));
  OPTIC_RETURN_IF_ERROR(MeasureSteady(c, "steady_concurrent", rep, &con_row, [&](SteadyMeters*, SteadyResult* out) {
    return RunClosedLoop(concurrent, c.batch_size, c.settings, out);
  }, &con));

  const double speedup = seq.throughput_per_s() > 0 ? con.throughput_per_s() / seq.throughput_per_s() : 0;
  std::vector<results::Row> out;
  for (const bool is_concurrent : {false, true}) {
    results::Row r = is_concurrent ? con_row : seq_row;
    const char* mode = is_concurrent ? "concurrent" : "sequential";
    r.cell_id = c.CellId() + "|" + mode;
    r.ensemble = {{"members", c.members}, {"mode", mode},
                  {"speedup", is_concurrent ? speedup : 1.0},
                  {"sequential_throughput_per_s", seq.throughput_per_s()},
                  {"concurrent_throughput_per_s", con.throughput_per_s()}};
    r.max_abs_err = is_concurrent ? diff.max_abs : 0.0;
    r.max_rel_err = is_concurrent ? diff.max_rel : 0.0;
    r.parity_reference = "ensemble/sequential";
    out.push_back(std::move(r));
  }
  *rows = std::move(out);
  return Status::OK();
}

}  // namespace optic::bench
