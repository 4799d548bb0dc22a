// The pipelined closed loop of optic bench (scenarios.h): it keeps `depth` queries in flight,
// collects in FIFO order, times each query from its submit to its collect, and leaves nothing in
// flight on return, also when a submit or a collect fails. The submit/collect pair here is a
// queue with a fixed service time, so the expected latencies are known.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <thread>

#include "bench/scenarios.h"

namespace optic::bench {
namespace {

struct FakePipeline {
  std::deque<int64_t> queue;
  int max_seen = 0;
  int64_t fail_submit_at = -1, fail_collect_after = -1, collected = 0;
  std::vector<int64_t> order;
  Status Submit(int64_t i) {
    if (i == fail_submit_at) return Status::Internal("submit failed");
    queue.push_back(i);
    max_seen = std::max(max_seen, static_cast<int>(queue.size()));
    return Status::OK();
  }
  Status Collect() {
    if (queue.empty()) return Status::InvalidArgument("nothing in flight");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // one "batch" of service
    order.push_back(queue.front());
    queue.pop_front();
    if (fail_collect_after >= 0 && ++collected > fail_collect_after) {
      return Status::Internal("collect failed");
    }
    return Status::OK();
  }
};

MeasureSettings Quick() {
  MeasureSettings s;
  s.min_duration_s = 0.15;
  s.max_duration_s = 0.6;
  s.min_samples = 20;
  return s;
}

TEST(BenchPipelinedLoop, KeepsDepthInFlightAndCollectsInOrder) {
  FakePipeline p;
  SteadyResult r;
  Status s = RunPipelinedLoop([&](int64_t i) { return p.Submit(i); }, [&] { return p.Collect(); },
                              3, /*samples_per_query=*/8, Quick(), &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(p.max_seen, 3);
  EXPECT_TRUE(p.queue.empty());  // drained
  for (size_t i = 1; i < p.order.size(); ++i) EXPECT_EQ(p.order[i], p.order[i - 1] + 1);
  ASSERT_GE(r.queries, 20);
  EXPECT_EQ(r.samples, r.queries * 8);
  ASSERT_EQ(static_cast<int64_t>(r.latencies_ms.size()), r.queries);
  // Three in flight, 2 ms each: a query waits for the two ahead of it, so ~6 ms, never < 2 ms.
  std::vector<double> lat = r.latencies_ms;
  std::sort(lat.begin(), lat.end());
  EXPECT_GE(lat.front(), 2.0);
  EXPECT_GE(lat[lat.size() / 2], 5.0);
  // Throughput is set by the service time, not by the depth: ~8 images / 2 ms.
  EXPECT_LT(r.throughput_per_s(), 8 / 0.002 * 1.05);
}

TEST(BenchPipelinedLoop, FailedSubmitDrainsAndNamesTheQuery) {
  FakePipeline p;
  p.fail_submit_at = 7;
  SteadyResult r;
  Status s = RunPipelinedLoop([&](int64_t i) { return p.Submit(i); }, [&] { return p.Collect(); },
                              3, 1, Quick(), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("query 7"), std::string::npos) << s.message();
  EXPECT_TRUE(p.queue.empty());
}

TEST(BenchPipelinedLoop, FailedCollectDrainsTheRest) {
  FakePipeline p;
  p.fail_collect_after = 5;  // the warm-up collects 2, then the 4th steady collect fails
  SteadyResult r;
  Status s = RunPipelinedLoop([&](int64_t i) { return p.Submit(i); }, [&] { return p.Collect(); },
                              2, 1, Quick(), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("collect failed"), std::string::npos) << s.message();
  EXPECT_TRUE(p.queue.empty());
}

}  // namespace
}  // namespace optic::bench
