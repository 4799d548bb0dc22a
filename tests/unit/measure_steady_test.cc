// The steady state: the stability rule and the Poisson schedule's mean and variance
// (percentiles and summaries: measure_stats_test.cc).
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "measure/steady.h"

namespace optic::measure {
namespace {

TEST(MeasureSteady, StabilityUsesLastThreeWindowsOnBothMetrics) {
  EXPECT_FALSE(IsStable({}));
  EXPECT_FALSE(IsStable({{100, 1}, {100, 1}}));  // fewer than 3 windows
  EXPECT_TRUE(IsStable({{100, 1.0}, {105, 1.05}, {109, 1.09}}));
  EXPECT_FALSE(IsStable({{100, 1.0}, {105, 1.0}, {111, 1.0}}));   // throughput 11% apart
  EXPECT_FALSE(IsStable({{100, 1.0}, {100, 1.0}, {100, 1.2}}));   // latency 20% apart
  // Only the last three count: an unstable start does not matter once it settles.
  EXPECT_TRUE(IsStable({{10, 9}, {100, 1.0}, {101, 1.0}, {102, 1.01}}));
  EXPECT_FALSE(IsStable({{0, 1}, {0, 1}, {0, 1}}));  // nothing measured is never stable
}

TEST(MeasureSteady, PoissonScheduleHasExponentialGaps) {
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
}  // namespace optic::measure
