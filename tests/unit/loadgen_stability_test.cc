// optic load stages are judged stable by the measure module's rule (measure::IsStable over windows of
// throughput and p50 latency), from each request's completion time.
#include <gtest/gtest.h>

#include "loadgen/loadgen.h"

namespace optic::loadgen {
namespace {

// `n` requests evenly spread over `seconds`, latency from `latency_ms(fraction of the stage)`.
template <typename Fn>
StageResult Stage(int n, double seconds, Fn latency_ms) {
  StageResult r;
  r.elapsed_s = seconds;
  for (int i = 0; i < n; ++i) {
    const double t = seconds * (i + 0.5) / n;
    r.completed_s.push_back(t);
    r.latencies_ms.push_back(latency_ms(t / seconds));
  }
  Summarize(&r);
  return r;
}

TEST(LoadStability, SteadyStageIsStable) {
  StageResult r = Stage(300, 3.0, [](double) { return 4.0; });
  ASSERT_EQ(r.windows.size(), 3u);
  EXPECT_NEAR(r.windows[0].throughput_per_s, 100, 1e-9);
  EXPECT_EQ(r.windows[1].latency_p50_ms, 4.0);
  EXPECT_TRUE(r.stable);
  EXPECT_EQ(r.stable, measure::IsStable(r.windows));
}

TEST(LoadStability, DriftingLatencyIsNotStable) {
  StageResult r = Stage(300, 3.0, [](double f) { return 4.0 + 8.0 * f; });
  ASSERT_EQ(r.windows.size(), 3u);
  EXPECT_FALSE(r.stable);
}

TEST(LoadStability, ThroughputDropIsNotStable) {
  StageResult r;
  r.elapsed_s = 3;
  for (int i = 0; i < 200; ++i) r.completed_s.push_back(i * 1.0 / 200);  // first window only
  for (int i = 0; i < 40; ++i) r.completed_s.push_back(1 + i * 2.0 / 40);
  r.latencies_ms.assign(r.completed_s.size(), 5.0);
  Summarize(&r);
  ASSERT_EQ(r.windows.size(), 3u);
  EXPECT_FALSE(r.stable);
}

TEST(LoadStability, TooFewRequestsOrNoTimesIsNeverStable) {
  EXPECT_FALSE(Stage(4, 3.0, [](double) { return 4.0; }).stable);  // windows of < 2 requests
  StageResult r;
  r.elapsed_s = 1;
  r.latencies_ms.assign(100, 1.0);  // no completion times
  Summarize(&r);
  EXPECT_TRUE(r.windows.empty());
  EXPECT_FALSE(r.stable);
}

}  // namespace
}  // namespace optic::loadgen
