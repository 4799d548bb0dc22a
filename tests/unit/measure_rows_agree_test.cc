// Bench rows and optic load stages summarize the same latencies into the same latency_ms
// percentiles and validity (one statistics module behind both), and those are LoadGen's
// observed samples, not interpolated values.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/scenarios.h"
#include "loadgen/loadgen.h"
#include "measure/stats.h"

namespace optic {
namespace {

std::vector<double> Latencies(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> ms(1.0, 0.5);
  std::vector<double> v(n);
  for (double& x : v) x = ms(rng);
  return v;
}

const char* const kFields[] = {"p50", "p90", "p95", "p99", "p999", "mean", "min", "max"};

std::map<std::string, double> LoadStage(const std::vector<double>& latencies) {
  loadgen::StageResult r;
  r.latencies_ms = latencies;
  r.elapsed_s = 1;
  loadgen::Summarize(&r);
  const measure::Summary& s = r.latency;
  return {{"p50", s.p50}, {"p90", s.p90}, {"p95", s.p95}, {"p99", s.p99}, {"p999", s.p999},
          {"mean", s.mean}, {"min", s.min}, {"max", s.max}};
}

TEST(MeasureRowsAgree, BenchRowAndLoadStageGiveTheSamePercentiles) {
  for (size_t n : {1, 7, 100, 1000, 6636}) {
    const std::vector<double> v = Latencies(n, 42 + n);
    bench::SteadyResult steady;
    steady.latencies_ms = v;
    results::Row typed;
    bench::WriteSteadyResult(steady, &typed);
    const nlohmann::json row = results::ToJson(typed);
    const std::map<std::string, double> load = LoadStage(v);
    const measure::Summary want = measure::Summarize(v);
    for (const char* f : kFields) {
      EXPECT_EQ(row["latency_ms"][f].get<double>(), load.at(f)) << f << " n=" << n;
    }
    EXPECT_EQ(row["latency_ms"]["p99"].get<double>(), want.p99) << n;
    EXPECT_EQ(row["latency_ms"]["p50"].get<double>(), want.p50) << n;
    EXPECT_EQ(row["latency_percentiles_valid"]["p99"].get<bool>(), want.p99_valid) << n;
    // Every percentile is one of the measured latencies.
    for (const char* f : {"p50", "p90", "p95", "p99", "p999"}) {
      EXPECT_NE(std::find(v.begin(), v.end(), load.at(f)), v.end()) << f << " n=" << n;
    }
  }
}

}  // namespace
}  // namespace optic
