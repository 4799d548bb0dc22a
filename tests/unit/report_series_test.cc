// Series and configurations in optic report (AssignSeries, Row::Config, SelectWinners and
// PrecisionSpeedups in src/report/analysis.h): rows that differ in backend options or come from
// different runs are separate lines and separate competitors, so no figure draws a line that
// zigzags between two measurements of the same batch size.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "report/analysis.h"

namespace optic::report {
namespace {

Row GpuRow(const std::string& backend, const std::string& precision, int batch, double thr,
           const nlohmann::json& options, const std::string& run_id) {
  Row r;
  r.kind = "bench";
  r.model = "resnet50";
  r.backend = backend;
  r.device = "cuda";
  r.precision = precision;
  r.batch_size = batch;
  r.threads = 16;
  r.scenario = "offline";
  r.status = "ok";
  r.throughput_per_s = thr;
  r.latency_ms.p50 = 1000.0 * batch / thr;
  r.settings = {{"backend_options", options}};
  r.run_id = run_id;
  r.file = "results/" + run_id + ".jsonl";
  r.host = {{"cpu", "Some CPU"}, {"gpu", "NVIDIA H200"}, {"hostname", "g"}};
  return r;
}

const nlohmann::json kChannelsLast = {{"channels_last", "true"}};
const nlohmann::json kGraph = {{"channels_last", "true"}, {"cuda_graph", "true"}};

// The invariant the figures rely on: within one hardware, model and series label, no two rows
// share a batch size and concurrency. Returns the offending label, or "" when it holds.
std::string SharedPoint(const std::vector<Row>& rows, const std::vector<SeriesInfo>& series) {
  std::set<std::tuple<std::string, std::string, std::string, int, int>> seen;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (!seen.insert({r.Hardware(), r.model, series[i].label, r.batch_size,
                      r.concurrency.value_or(0)}).second) {
      return series[i].label + " b" + std::to_string(r.batch_size);
    }
  }
  return "";
}

TEST(Config, NamesBackendOptions) {
  Row plain = GpuRow("torch", "fp16", 1, 600, nlohmann::json::object(), "r1");
  Row graph = GpuRow("torch", "fp16", 1, 1400, kGraph, "r1");
  Row valued = GpuRow("torch", "fp16", 1, 1400, {{"threads_mode", "spin"}}, "r1");
  EXPECT_EQ(plain.OptionsLabel(), "");
  EXPECT_EQ(plain.Config(), "torch");
  EXPECT_EQ(graph.OptionsLabel(), "+channels_last +cuda_graph");
  EXPECT_EQ(graph.Config(), "torch +channels_last +cuda_graph");
  EXPECT_EQ(valued.Config(), "torch +threads_mode=spin");
  EXPECT_EQ(graph.Label(), "resnet50 torch +channels_last +cuda_graph cuda fp16 b1");
}

TEST(Series, BackendOptionsAreSeparateLines) {
  std::vector<Row> rows;
  for (int b : {1, 16, 256}) {
    rows.push_back(GpuRow("torch", "fp16", b, 100.0 * b, kChannelsLast, "r1"));
    rows.push_back(GpuRow("torch", "fp16", b, 150.0 * b, kGraph, "r1"));
  }
  const auto series = AssignSeries(rows);
  ASSERT_EQ(series.size(), rows.size());
  EXPECT_EQ(SharedPoint(rows, series), "");
  EXPECT_EQ(series[0].label, "torch fp16 +channels_last");
  EXPECT_EQ(series[1].label, "torch fp16 +channels_last +cuda_graph");
  EXPECT_NE(series[0].color_key, series[1].color_key);
}

TEST(Series, RunsOfTheSameConfigurationAreSeparateLinesAndSayWhichRun) {
  std::vector<Row> rows;
  for (int b : {1, 16}) {
    rows.push_back(GpuRow("torch", "fp32", b, 100.0 * b, kChannelsLast, "2026-11-21T23:57:32Z-700fbf2d"));
    rows.push_back(GpuRow("torch", "fp32", b, 50.0 * b, kChannelsLast, "2026-11-22T01:04:59Z-3634ac20"));
    rows.push_back(GpuRow("torch", "fp16", b, 200.0 * b, kChannelsLast, "2026-11-22T01:04:59Z-3634ac20"));
  }
  const auto series = AssignSeries(rows);
  EXPECT_EQ(SharedPoint(rows, series), "");
  EXPECT_EQ(series[0].label, "torch fp32 +channels_last · run 2026-11-21 23:57");
  EXPECT_EQ(series[1].label, "torch fp32 +channels_last · run 2026-11-22 01:04");
  // fp16 and fp32 of one run share a colour (dashes tell precisions apart), the runs do not.
  EXPECT_EQ(series[1].color_key, series[2].color_key);
  EXPECT_NE(series[0].color_key, series[1].color_key);
}

TEST(Series, OneRunNeedsNoRunInItsLabel) {
  std::vector<Row> rows = {GpuRow("torch_aoti", "fp32", 1, 400, nlohmann::json::object(), "r1"),
                           GpuRow("torch_aoti", "fp32", 16, 2000, nlohmann::json::object(), "r1")};
  const auto series = AssignSeries(rows);
  EXPECT_EQ(series[0].label, "torch_aoti fp32");
  EXPECT_EQ(series[0].label, series[1].label);
}

TEST(Series, SameRunInTwoFilesFallsBackToTheFileName) {
  Row a = GpuRow("torch", "fp32", 1, 100, kChannelsLast, "r1");
  Row b = GpuRow("torch", "fp32", 1, 120, kChannelsLast, "r1");
  a.file = "x/first.jsonl";
  b.file = "x/second.jsonl";
  std::vector<Row> rows = {a, b};
  const auto series = AssignSeries(rows);
  EXPECT_EQ(SharedPoint(rows, series), "");
  EXPECT_EQ(series[1].label, "torch fp32 +channels_last · second.jsonl");
}

TEST(Winners, ConfigurationsCompeteSeparately) {
  std::vector<Row> rows = {GpuRow("torch", "fp16", 1, 600, kChannelsLast, "r1"),
                           GpuRow("torch", "fp16", 1, 1400, kGraph, "r1"),
                           GpuRow("torch_aoti", "fp16", 1, 750, nlohmann::json::object(), "r1")};
  auto cells = SelectWinners(rows);
  ASSERT_EQ(cells.size(), 1u);
  ASSERT_TRUE(cells[0].best_throughput && cells[0].runner_up_throughput);
  EXPECT_EQ(cells[0].best_throughput->config, "torch +channels_last +cuda_graph");
  EXPECT_EQ(cells[0].best_throughput->backend, "torch");
  EXPECT_EQ(cells[0].runner_up_throughput->config, "torch_aoti");
  EXPECT_DOUBLE_EQ(cells[0].runner_up_throughput->value, 750);
  ASSERT_TRUE(cells[0].best_latency);
  EXPECT_EQ(cells[0].best_latency->config, "torch +channels_last +cuda_graph");
}

TEST(Speedups, PairWithinTheSameConfigurationAndRun) {
  std::vector<Row> rows = {GpuRow("torch", "fp32", 1, 500, kChannelsLast, "r1"),
                           GpuRow("torch", "fp32", 1, 1000, kGraph, "r2"),
                           GpuRow("torch", "fp16", 1, 1500, kGraph, "r2"),
                           GpuRow("torch", "fp32", 1, 400, kChannelsLast, "r3"),
                           GpuRow("torch", "fp16", 1, 800, kChannelsLast, "r3")};
  auto sp = PrecisionSpeedups(rows);
  ASSERT_EQ(sp.size(), 2u);
  std::map<std::string, double> by_config;
  for (const auto& s : sp) by_config[s.config] = s.speedup;
  EXPECT_DOUBLE_EQ(by_config.at("torch +channels_last +cuda_graph"), 1.5);  // not 1500 / 500
  EXPECT_DOUBLE_EQ(by_config.at("torch +channels_last"), 2.0);              // r3's fp32, not r1's
}

// The committed H200 runs: three torch configurations, two AOTInductor ones and two runs of the
// same torch sweep. Every figure groups rows by AssignSeries, so the invariant must hold there.
TEST(Series, CommittedGpuResultsHaveNoSharedPoints) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(OPTIC_SOURCE_DIR) / "results" / "nvidia-h200";
  ResultsSet set;
  for (const char* run : {"run-2026-11-21", "run-2026-11-22"}) {
    if (!fs::exists(root / run)) GTEST_SKIP() << "no committed results in " << (root / run);
    for (const auto& f : fs::directory_iterator(root / run)) {
      if (f.path().extension() == ".jsonl") {
        ASSERT_TRUE(LoadResultsFile(f.path().string(), {}, &set).ok()) << f.path();
      }
    }
  }
  ASSERT_GT(set.rows.size(), 40u);
  const auto series = AssignSeries(set.rows);
  EXPECT_EQ(SharedPoint(set.rows, series), "");
  std::set<std::string> labels;
  for (size_t i = 0; i < series.size(); ++i) {
    if (set.rows[i].model == "resnet50" && set.rows[i].precision == "fp16") labels.insert(series[i].label);
  }
  EXPECT_TRUE(labels.count("torch fp16 +channels_last +cuda_graph")) << ::testing::PrintToString(labels);
  EXPECT_TRUE(labels.count("torch_aoti fp16 +cuda_graph")) << ::testing::PrintToString(labels);
  EXPECT_TRUE(labels.count("torch_aoti fp16")) << ::testing::PrintToString(labels);
}

}  // namespace
}  // namespace optic::report
