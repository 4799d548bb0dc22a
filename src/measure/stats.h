// Latency statistics for every result row optic writes or reads: bench cells, optic load (HTTP
// and gRPC), the API-overhead harness and the report's aggregation of repeats. One percentile
// definition, one summary, one set of minimum sample counts, so a `latency_ms.p99` means the same
// thing whichever tool produced it.
//
// Pure computation on values: no clocks, threads, I/O or shared state; any thread may call any
// function here on its own data. Nothing throws or aborts on empty input: it yields NaN
// (documented per function), which the row writers turn into null.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace optic::measure {

// The percentile definition is MLPerf LoadGen's (loadgen/results.cc): with the n samples sorted
// ascending as x[0] <= ... <= x[n-1] and 0 <= p <= 100,
//
//     Percentile(p) = x[k],  k = min(floor(p / 100 * n), n - 1)     (0-based rank)
//
// i.e. the smallest sample such that more than p% of the samples are at or below it. It is
// always an observed latency (no interpolation), p100 is the maximum, and p50 of an even count
// is the upper of the two middle samples.
//
// Why this one: LoadGen is the published reference for inference latency, and the minimum
// sample counts below are LoadGen's own bounds for exactly this order statistic. Triton's
// perf_analyzer also reports an observed sample, at rank round(p / 100 * (n - 1)) (halves up);
// its p50 is the same sample as LoadGen's for every n, and above p50 it is the same or one rank
// lower. numpy's default (linear interpolation between ranks) reports values no request had and
// is not used.
//
// p is in percent. The rank is computed exactly for p given to 1e-4 percent (99.9, 99.99; a
// finer p is rounded to that step): floating-point p * n / 100 would put floor() one rank low
// for some n (33.3% of 3000).
// Returns NaN when `sorted` is empty or p is outside [0, 100] (or NaN). `sorted` must be
// ascending; the result is unspecified otherwise.
double PercentileOfSorted(const std::vector<double>& sorted, double p);

// The same for unsorted values (sorts a copy).
double Percentile(std::vector<double> values, double p);

// Percentile(values, 50): the one median of the tree (an observed value; the upper middle for an
// even count). NaN when empty.
double Median(std::vector<double> values);

// Minimum samples before a tail percentile is reported as valid: MLPerf LoadGen's early-stopping
// bound (loadgen/early_stopping.cc) at 99% confidence. Early stopping counts the t queries above
// the estimate and asks for h below it such that, were only q = p/100 of all queries below it,
// seeing at most t above in h + t queries would have probability under 1%:
// sum_{k=0..t} C(h+t, k) (1-q)^k q^(h+t-k) < 0.01. Its smallest estimate has t = 1 (the largest
// sample), which needs h = 63 / 661 / 6635, so h + 1 = 64 / 662 / 6636 samples for p90 / p99 /
// p99.9 (LoadGen's "need to process at least ... queries"). A percentile from fewer samples is
// still computed and shown; readers must mark it invalid.
inline constexpr int64_t kMinSamplesP90 = 64;
inline constexpr int64_t kMinSamplesP99 = 662;
inline constexpr int64_t kMinSamplesP999 = 6636;

// Which tail percentiles `count` samples support (the rule above).
struct TailValidity {
  bool p90 = false, p99 = false, p999 = false;
};
TailValidity EnoughSamples(int64_t count);

// A latency distribution summarized: any unit (the caller's; rows use milliseconds).
struct Summary {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  int64_t count = 0;
  // NaN when count == 0.
  double mean = kNone, min = kNone, max = kNone;
  double p50 = kNone, p90 = kNone, p95 = kNone, p99 = kNone, p999 = kNone;
  // EnoughSamples(count): false for every tail when count == 0.
  bool p90_valid = false, p99_valid = false, p999_valid = false;
};

// Summarizes `values` (takes a copy because it sorts). Empty input gives count 0 and NaN values.
Summary Summarize(std::vector<double> values);

}  // namespace optic::measure
