#include "bench/scenarios.h"

#include "bench/results.h"
#include "measure/stats.h"

#include <algorithm>
#include <chrono>
#include <deque>

namespace optic::bench {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Collects completions into stability windows and decides when the steady state is done.
class WindowTracker {
 public:
  WindowTracker(const MeasureSettings& s, Clock::time_point start)
      : s_(s), start_(start), window_start_(start) {}

  // Records `samples` images completed at `now` with these latencies; true when done.
  bool Add(Clock::time_point now, int samples, const std::vector<double>& lat_ms, SteadyResult* r) {
    for (double l : lat_ms) {
      r->latencies_ms.push_back(l);
      window_lat_.push_back(l);
    }
    r->queries += 1;
    r->samples += samples;
    window_samples_ += samples;
    window_queries_ += 1;
    const double in_window = Seconds(now - window_start_);
    if (in_window >= s_.window() && window_queries_ >= s_.window_min_queries) {
      std::sort(window_lat_.begin(), window_lat_.end());
      r->windows.push_back(
          {window_samples_ / in_window, measure::PercentileOfSorted(window_lat_, 50)});
      window_lat_.clear();
      window_samples_ = 0;
      window_queries_ = 0;
      window_start_ = now;
    }
    r->elapsed_s = Seconds(now - start_);
    r->stable = measure::IsStable(r->windows);
    const bool enough = r->elapsed_s >= s_.min_duration_s && r->queries >= s_.min_samples;
    return (enough && r->stable) || r->elapsed_s >= s_.max_duration_s;
  }

 private:
  const MeasureSettings& s_;
  Clock::time_point start_, window_start_;
  std::vector<double> window_lat_;
  int64_t window_samples_ = 0;
  int window_queries_ = 0;
};

}  // namespace

void WriteSteadyResult(const SteadyResult& r, results::Row* row) {
  row->throughput_per_s = r.throughput_per_s();
  row->SetLatency(measure::Summarize(r.latencies_ms));
  row->stable = r.stable;
  row->windows = nlohmann::json::array();
  for (const measure::Window& w : r.windows) {
    row->windows.push_back({{"throughput_per_s", w.throughput_per_s}, {"latency_p50_ms", w.latency_p50_ms}});
  }
  row->phases["steady_s"] = r.elapsed_s;
  row->phases["queries"] = r.queries;
  row->phases["images"] = r.samples;
  if (!r.server.is_null()) row->server = r.server;
}

Status Warmup(const QueryFn& query, const MeasureSettings& s, int64_t* runs, double* mean_ms) {
  const auto start = Clock::now();
  int64_t n = 0;
  // A model slower than the whole steady-state budget stops warming up at max_duration_s rather
  // than spending warmup_runs x its latency; the row's phases.warmup_runs shows how many ran.
  while ((n < s.warmup_runs || Seconds(Clock::now() - start) * 1e3 < s.warmup_ms) &&
         (n == 0 || Seconds(Clock::now() - start) < s.max_duration_s)) {
    OPTIC_RETURN_IF_ERROR(query(n).Prefixed("warm-up query " + std::to_string(n)));
    ++n;
  }
  *runs = n;
  *mean_ms = n ? Seconds(Clock::now() - start) * 1e3 / static_cast<double>(n) : 0;
  return Status::OK();
}

Status RunClosedLoop(const QueryFn& query, int samples_per_query, const MeasureSettings& s,
                     SteadyResult* out) {
  *out = SteadyResult();
  const auto start = Clock::now();
  WindowTracker tracker(s, start);
  for (int64_t i = 0;; ++i) {
    const auto t0 = Clock::now();
    OPTIC_RETURN_IF_ERROR(query(i).Prefixed("query " + std::to_string(i)));
    const auto t1 = Clock::now();
    if (tracker.Add(t1, samples_per_query, {Seconds(t1 - t0) * 1e3}, out)) break;
  }
  return Status::OK();
}

Status RunPipelinedLoop(const SubmitFn& submit, const CollectFn& collect, int depth,
                        int samples_per_query, const MeasureSettings& s, SteadyResult* out) {
  *out = SteadyResult();
  depth = std::max(1, depth);
  std::deque<Clock::time_point> sent;  // submit times of the queries in flight, oldest first
  auto drain = [&]() {
    Status first;
    for (; !sent.empty(); sent.pop_front()) {
      Status st = collect();
      if (first.ok() && !st.ok()) first = st;
    }
    return first;
  };
  // A failure stops the loop; what is still in flight is collected (and its errors dropped).
  auto fail = [&](const Status& st, const std::string& where) {
    (void)drain();
    return st.Prefixed(where);
  };
  int64_t next = 0;
  for (int i = 0; i < depth; ++i, ++next) {  // untimed: fill and empty every slot once
    Status st = submit(next);
    if (!st.ok()) return fail(st, "pipeline warm-up");
    sent.push_back(Clock::now());
  }
  OPTIC_RETURN_IF_ERROR(drain().Prefixed("pipeline warm-up"));
  const auto start = Clock::now();
  WindowTracker tracker(s, start);
  for (;;) {
    while (static_cast<int>(sent.size()) < depth) {
      const auto t0 = Clock::now();
      Status st = submit(next);
      if (!st.ok()) return fail(st, "query " + std::to_string(next));
      sent.push_back(t0);
      ++next;
    }
    Status st = collect();
    const auto t1 = Clock::now();
    const auto t0 = sent.front();
    sent.pop_front();
    if (!st.ok()) return fail(st, "collect");
    if (tracker.Add(t1, samples_per_query, {Seconds(t1 - t0) * 1e3}, out)) break;
  }
  return drain().Prefixed("pipeline drain");
}

Status SearchServer(Model* model, const InputPool& pool, int max_batch, bool dynamic_batch,
                    double capacity_qps, const MeasureSettings& s, SteadyResult* out) {
  if (s.p99_bound_ms <= 0) {
    return Status::InvalidArgument("server_search needs --p99-bound-ms > 0");
  }
  if (capacity_qps <= 0) return Status::Internal("server_search: no capacity estimate");
  double lo = 0, hi = capacity_qps * 1.2;
  json trials = json::array();
  SteadyResult best, lowest;
  bool found = false;
  double lowest_qps = 0;
  for (int step = 0; step < s.search_steps; ++step) {
    const double qps = (lo + hi) / 2;
    SteadyResult r;
    OPTIC_RETURN_IF_ERROR(RunServer(model, pool, max_batch, dynamic_batch, qps, s, &r)
                              .Prefixed("server_search at " + std::to_string(qps) + " qps"));
    std::vector<double> lat = r.latencies_ms;
    std::sort(lat.begin(), lat.end());
    const double p99 = measure::PercentileOfSorted(lat, 99);
    const bool pass = !lat.empty() && p99 <= s.p99_bound_ms;
    trials.push_back({{"qps", qps}, {"p99_ms", p99}, {"samples", r.samples}, {"pass", pass},
                      {"p99_valid", static_cast<int64_t>(lat.size()) >= measure::kMinSamplesP99}});
    if (pass) {
      lo = qps;
      best = std::move(r);
      found = true;
    } else {
      hi = qps;
      if (lowest_qps == 0 || qps < lowest_qps) {
        lowest_qps = qps;
        lowest = std::move(r);
      }
    }
  }
  *out = found ? std::move(best) : std::move(lowest);
  out->server["search"] = {{"p99_bound_ms", s.p99_bound_ms},
                           {"best_qps", found ? json(lo) : json(nullptr)},
                           {"capacity_estimate_qps", capacity_qps},
                           {"trials", trials}};
  return Status::OK();
}

}  // namespace optic::bench
