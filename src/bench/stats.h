// Statistics of a benchmark cell: latency percentiles with the minimum-sample rules, the
// stability rule over measurement windows, and the seeded Poisson arrival schedule.
// Everything here is pure computation on values; no clocks, no threads, no I/O.
#pragma once

#include <cstdint>
#include <vector>

namespace optic::bench {

// Minimum samples before a tail percentile is statistically meaningful (MLPerf LoadGen's early
// stopping bound at 99% confidence): p90 needs 64, p99 662, p99.9 6636.
inline constexpr int64_t kMinSamplesP90 = 64;
inline constexpr int64_t kMinSamplesP99 = 662;
inline constexpr int64_t kMinSamplesP999 = 6636;

// The p-th percentile (0 <= p <= 100) of `sorted` (ascending), interpolating linearly between the
// two closest ranks (numpy's default, so results can be checked against numpy). 0 when empty.
double Percentile(const std::vector<double>& sorted, double p);

struct LatencySummary {
  int64_t count = 0;
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, mean = 0, min = 0, max = 0;
  // Whether each tail percentile had enough samples (see kMinSamples*). The value is still
  // computed so a reader can see it, but a report must show it as not valid.
  bool p90_valid = false, p99_valid = false, p999_valid = false;
};

// Summarizes latencies (any unit; the caller's). Takes a copy because it sorts.
LatencySummary Summarize(std::vector<double> latencies);

// One measurement window of the steady state.
struct Window {
  double throughput_per_s = 0;
  double latency_p50_ms = 0;
};

// perf_analyzer's rule: stable when the last `count` windows are within max/min <= 1 + tolerance
// on both throughput and p50 latency. Fewer than `count` windows is never stable.
bool IsStable(const std::vector<Window>& windows, int count = 3, double tolerance = 0.10);

// Scheduled arrival times (seconds from the start) of `n` queries with exponential gaps of mean
// 1/qps, from a seeded std::mt19937_64: the same schedule on every machine for the same seed.
std::vector<double> PoissonArrivals(double qps, int64_t n, uint64_t seed);

}  // namespace optic::bench
