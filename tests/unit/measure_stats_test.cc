// The one percentile definition (MLPerf LoadGen's x[floor(p/100 * n)]) on hand-computed vectors,
// ties, n = 1, empty input and out-of-range p; the summary; and the minimum sample counts derived
// again from the early-stopping inequality they come from.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "measure/stats.h"

namespace optic::measure {
namespace {

std::vector<double> OneTo(int n) {
  std::vector<double> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 1.0);
  return v;
}

TEST(MeasureStats, PercentileIsTheSampleAtRankFloorPN) {
  const std::vector<double> v = OneTo(10);  // x[k] = k + 1
  EXPECT_EQ(PercentileOfSorted(v, 0), 1);    // k = 0
  EXPECT_EQ(PercentileOfSorted(v, 10), 2);   // k = floor(1) = 1
  EXPECT_EQ(PercentileOfSorted(v, 25), 3);   // k = floor(2.5) = 2
  EXPECT_EQ(PercentileOfSorted(v, 50), 6);   // k = 5: the upper middle of an even count
  EXPECT_EQ(PercentileOfSorted(v, 89.9), 9); // k = floor(8.99) = 8
  EXPECT_EQ(PercentileOfSorted(v, 90), 10);  // k = 9
  EXPECT_EQ(PercentileOfSorted(v, 99.9), 10);
  EXPECT_EQ(PercentileOfSorted(v, 100), 10);  // k = n clamps to the maximum
}

TEST(MeasureStats, TailRanksAtExactMultiples) {
  // Where p * n is an integer, LoadGen takes the sample above that many: p99 of 100 samples is
  // the largest (perf_analyzer's round(p * (n - 1)) would give 99, numpy's linear 99.01).
  const std::vector<double> h = OneTo(100);
  EXPECT_EQ(PercentileOfSorted(h, 50), 51);
  EXPECT_EQ(PercentileOfSorted(h, 90), 91);
  EXPECT_EQ(PercentileOfSorted(h, 95), 96);
  EXPECT_EQ(PercentileOfSorted(h, 99), 100);
  const std::vector<double> k = OneTo(1000);
  EXPECT_EQ(PercentileOfSorted(k, 99), 991);
  EXPECT_EQ(PercentileOfSorted(k, 99.9), 1000);
  EXPECT_EQ(PercentileOfSorted(k, 99.8), 999);
  // 33.3% of 3000 is exactly 999; floating-point 33.3 * 3000 / 100 lands just under it.
  EXPECT_EQ(PercentileOfSorted(OneTo(3000), 33.3), 1000);
  EXPECT_EQ(PercentileOfSorted(OneTo(6636), 99.9), 6630);  // k = floor(6629.364) = 6629
}

TEST(MeasureStats, TiesAndOddCounts) {
  const std::vector<double> v{1, 2, 2, 2, 3};
  EXPECT_EQ(PercentileOfSorted(v, 19.9), 1);  // k = 0
  EXPECT_EQ(PercentileOfSorted(v, 20), 2);    // k = 1
  EXPECT_EQ(PercentileOfSorted(v, 50), 2);    // k = 2, the middle of an odd count
  EXPECT_EQ(PercentileOfSorted(v, 79.9), 2);  // k = 3
  EXPECT_EQ(PercentileOfSorted(v, 80), 3);    // k = 4
  EXPECT_EQ(Percentile({7, 7, 7}, 99), 7);
}

TEST(MeasureStats, OneSampleIsEveryPercentile) {
  for (double p : {0.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(PercentileOfSorted({4.5}, p), 4.5);
  }
  const Summary s = Summarize({4.5});
  EXPECT_EQ(s.count, 1);
  EXPECT_EQ(s.p50, 4.5);
  EXPECT_EQ(s.p999, 4.5);
  EXPECT_EQ(s.mean, 4.5);
  EXPECT_FALSE(s.p90_valid);
}

TEST(MeasureStats, EmptyInputAndBadPercentAreNaN) {
  EXPECT_TRUE(std::isnan(PercentileOfSorted({}, 50)));
  EXPECT_TRUE(std::isnan(Percentile({}, 99)));
  EXPECT_TRUE(std::isnan(Median({})));
  EXPECT_TRUE(std::isnan(PercentileOfSorted({1, 2}, -1)));
  EXPECT_TRUE(std::isnan(PercentileOfSorted({1, 2}, 100.5)));
  EXPECT_TRUE(std::isnan(PercentileOfSorted({1, 2}, std::nan(""))));
  const Summary s = Summarize({});
  EXPECT_EQ(s.count, 0);
  for (double x : {s.mean, s.min, s.max, s.p50, s.p90, s.p95, s.p99, s.p999}) {
    EXPECT_TRUE(std::isnan(x));
  }
  EXPECT_FALSE(s.p90_valid || s.p99_valid || s.p999_valid);
}

TEST(MeasureStats, PercentileAndMedianSortACopy) {
  EXPECT_EQ(Percentile({5, 1, 4, 2, 3}, 90), 5);  // k = floor(4.5) = 4
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 3, 2}), 3);  // upper middle, an observed value
  EXPECT_EQ(Median({2.5}), 2.5);
}

TEST(MeasureStats, SummarizeSortsAndComputesMeanMinMax) {
  const Summary s = Summarize({5, 1, 4, 2, 3});
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(s.p50, 3);
  EXPECT_EQ(s.p90, 5);
  EXPECT_EQ(s.p95, 5);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 5);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  const Summary t = Summarize(OneTo(20));
  EXPECT_EQ(t.p50, 11);
  EXPECT_EQ(t.p90, 19);
  EXPECT_EQ(t.p95, 20);
  EXPECT_DOUBLE_EQ(t.mean, 10.5);
}

// P(at most one of n samples above the true q-quantile) = q^n + n (1 - q) q^(n - 1).
double AtMostOneAbove(int64_t n, double q) {
  return std::pow(q, n) + static_cast<double>(n) * (1 - q) * std::pow(q, n - 1);
}

TEST(MeasureStats, MinimumSamplesAreLoadGensEarlyStoppingBound) {
  const std::pair<double, int64_t> bounds[] = {
      {0.90, kMinSamplesP90}, {0.99, kMinSamplesP99}, {0.999, kMinSamplesP999}};
  for (const auto& [q, min_samples] : bounds) {
    // LoadGen needs h passing queries with odds < 1% for one failing, then h + 1 queries.
    int64_t h = 1;
    while (AtMostOneAbove(h + 1, q) >= 0.01) ++h;
    EXPECT_EQ(h + 1, min_samples) << "q = " << q;
  }
  auto with = [](int64_t n) { return Summarize(std::vector<double>(static_cast<size_t>(n), 1.0)); };
  EXPECT_FALSE(with(63).p90_valid);
  EXPECT_TRUE(with(64).p90_valid);
  EXPECT_FALSE(with(661).p99_valid);
  EXPECT_TRUE(with(662).p99_valid);
  EXPECT_FALSE(with(6635).p999_valid);
  const Summary s = with(6636);
  EXPECT_TRUE(s.p90_valid && s.p99_valid && s.p999_valid);
  const TailValidity none = EnoughSamples(0), all = EnoughSamples(6636);
  EXPECT_FALSE(none.p90 || none.p99 || none.p999);
  EXPECT_TRUE(all.p90 && all.p99 && all.p999);
}

}  // namespace
}  // namespace optic::measure
