// Statistics of optic bench: percentiles against numpy's values, the minimum-sample rules, the
// stability rule, and the Poisson schedule's mean and variance.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "bench/stats.h"

namespace optic::bench {
namespace {

TEST(BenchStats, PercentilesMatchNumpyLinear) {
  // numpy.percentile(range(1, 11), [0, 50, 90, 95, 99, 99.9, 100]) with the default 'linear'.
  std::vector<double> v{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_DOUBLE_EQ(Percentile(v, 0), 1.0);
  EXPECT_DOUBLE_EQ(Percentile(v, 50), 5.5);
  EXPECT_NEAR(Percentile(v, 90), 9.1, 1e-12);
  EXPECT_NEAR(Percentile(v, 95), 9.55, 1e-12);
  EXPECT_NEAR(Percentile(v, 99), 9.91, 1e-12);
  EXPECT_NEAR(Percentile(v, 99.9), 9.991, 1e-12);
  EXPECT_DOUBLE_EQ(Percentile(v, 100), 10.0);
  EXPECT_DOUBLE_EQ(Percentile({}, 50), 0.0);
  EXPECT_DOUBLE_EQ(Percentile({7}, 99), 7.0);
}

TEST(BenchStats, SummarizeSortsAndComputesMeanMinMax) {
  LatencySummary s = Summarize({5, 1, 4, 2, 3});
  EXPECT_EQ(s.count, 5);
  EXPECT_DOUBLE_EQ(s.p50, 3);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 5);
  // numpy.percentile([1,2,3,4,5], 90) = 4.6
  EXPECT_NEAR(s.p90, 4.6, 1e-12);
}

TEST(BenchStats, MinimumSampleRules) {
  auto with = [](int64_t n) { return Summarize(std::vector<double>(static_cast<size_t>(n), 1.0)); };
  EXPECT_FALSE(with(63).p90_valid);
  EXPECT_TRUE(with(64).p90_valid);
  EXPECT_FALSE(with(661).p99_valid);
  EXPECT_TRUE(with(662).p99_valid);
  EXPECT_FALSE(with(6635).p999_valid);
  const LatencySummary s = with(6636);
  EXPECT_TRUE(s.p90_valid && s.p99_valid && s.p999_valid);
}

TEST(BenchStats, StabilityUsesLastThreeWindowsOnBothMetrics) {
  EXPECT_FALSE(IsStable({}));
  EXPECT_FALSE(IsStable({{100, 1}, {100, 1}}));  // fewer than 3 windows
  EXPECT_TRUE(IsStable({{100, 1.0}, {105, 1.05}, {109, 1.09}}));
  EXPECT_FALSE(IsStable({{100, 1.0}, {105, 1.0}, {111, 1.0}}));   // throughput 11% apart
  EXPECT_FALSE(IsStable({{100, 1.0}, {100, 1.0}, {100, 1.2}}));   // latency 20% apart
  // Only the last three count: an unstable start does not matter once it settles.
  EXPECT_TRUE(IsStable({{10, 9}, {100, 1.0}, {101, 1.0}, {102, 1.01}}));
  EXPECT_FALSE(IsStable({{0, 1}, {0, 1}, {0, 1}}));  // nothing measured is never stable
}

TEST(BenchStats, PoissonScheduleHasExponentialGaps) {
  const double qps = 200;
  const std::vector<double> t = PoissonArrivals(qps, 200000, 42);
  ASSERT_EQ(t.size(), 200000u);
  std::vector<double> gaps(t.size());
  gaps[0] = t[0];
  for (size_t i = 1; i < t.size(); ++i) {
    ASSERT_GT(t[i], t[i - 1]);
    gaps[i] = t[i] - t[i - 1];
  }
  const double mean = std::accumulate(gaps.begin(), gaps.end(), 0.0) / gaps.size();
  double var = 0;
  for (double g : gaps) var += (g - mean) * (g - mean);
  var /= gaps.size() - 1;
  // Exponential(rate qps): mean 1/qps, variance 1/qps^2 (within 2% at n = 200k).
  EXPECT_NEAR(mean, 1 / qps, 0.02 / qps);
  EXPECT_NEAR(var, 1 / (qps * qps), 0.02 / (qps * qps));
  // Seeded: the same schedule every time, a different one for another seed.
  EXPECT_EQ(PoissonArrivals(qps, 10, 42), PoissonArrivals(qps, 10, 42));
  EXPECT_NE(PoissonArrivals(qps, 10, 42), PoissonArrivals(qps, 10, 43));
  EXPECT_TRUE(PoissonArrivals(0, 10, 1).empty());
}

}  // namespace
}  // namespace optic::bench
