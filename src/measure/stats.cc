#include "measure/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace optic::measure {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// p is counted in steps of 1e-4 percent, the finest step for which the rank is exact.
constexpr double kStepsPerPercent = 1e4;
constexpr uint64_t kStepsPerWhole = 1'000'000;  // 100 percent

}  // namespace

double PercentileOfSorted(const std::vector<double>& sorted, double p) {
  if (sorted.empty() || !(p >= 0 && p <= 100)) return kNaN;
  const uint64_t steps = static_cast<uint64_t>(std::llround(p * kStepsPerPercent));
  const uint64_t n = sorted.size();
  // floor(p / 100 * n) in integers; steps * n stays below 2^64 for any vector that fits memory.
  const uint64_t rank = steps * n / kStepsPerWhole;
  return sorted[std::min<uint64_t>(rank, n - 1)];
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return PercentileOfSorted(values, p);
}

double Median(std::vector<double> values) { return Percentile(std::move(values), 50); }

TailValidity EnoughSamples(int64_t count) {
  return {count >= kMinSamplesP90, count >= kMinSamplesP99, count >= kMinSamplesP999};
}

Summary Summarize(std::vector<double> v) {
  Summary s;
  s.count = static_cast<int64_t>(v.size());
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.p50 = PercentileOfSorted(v, 50);
  s.p90 = PercentileOfSorted(v, 90);
  s.p95 = PercentileOfSorted(v, 95);
  s.p99 = PercentileOfSorted(v, 99);
  s.p999 = PercentileOfSorted(v, 99.9);
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  s.min = v.front();
  s.max = v.back();
  const TailValidity valid = EnoughSamples(s.count);
  s.p90_valid = valid.p90;
  s.p99_valid = valid.p99;
  s.p999_valid = valid.p999;
  return s;
}

}  // namespace optic::measure
