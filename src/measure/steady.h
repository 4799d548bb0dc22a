// The steady state of a measured run: the stability rule over measurement windows (bench cells
// and optic load stages) and the seeded Poisson arrival schedule. Percentiles and latency
// summaries are stats.h's (one definition for every row). Everything here is pure computation on values; no clocks, no threads, no I/O.
#pragma once

#include <cstdint>
#include <vector>

namespace optic::measure {

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

}  // namespace optic::measure
