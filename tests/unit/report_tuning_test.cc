// The settings-search analyses (report/tuning.h): gains against the defaults per cell, the
// Pareto front per model, and rows that must not count (failed, out of parity, no defaults).
#include <gtest/gtest.h>

#include "report/tuning.h"

namespace optic::report {
namespace {

Row Make(const std::string& backend, const nlohmann::json& options, int threads, double tput,
         double p50, int batch = 1) {
  Row r;
  r.kind = "bench";
  r.model = "resnet50";
  r.backend = backend;
  r.device = "cpu";
  r.precision = "fp32";
  r.batch_size = batch;
  r.threads = threads;
  r.scenario = "offline";
  r.status = "ok";
  r.throughput_per_s = tput;
  r.latency_ms.p50 = p50;
  r.host = {{"cores", 8}, {"cpu", "Test CPU"}};
  r.settings = {{"backend_options", options}};
  return r;
}

TEST(SettingsGains, BestAgainstDefaultsPerCell) {
  std::vector<Row> rows = {
      Make("onnxruntime", nlohmann::json::object(), 8, 100, 10),
      Make("onnxruntime", {{"graph_optimization", "basic"}}, 8, 80, 12),
      Make("onnxruntime", nlohmann::json::object(), 4, 130, 8),
      Make("openvino", nlohmann::json::object(), 8, 200, 5),  // defaults only: no gain row
  };
  Row failed = Make("onnxruntime", {{"allow_spinning", "false"}}, 8, 0, 0);
  failed.status = "failed";
  failed.throughput_per_s.reset();
  rows.push_back(failed);
  Row off = Make("onnxruntime", {{"graph_optimization", "extended"}}, 8, 500, 1);
  off.parity_pass = false;  // fastest, but out of parity: never the best
  rows.push_back(off);
  const auto gains = SettingsGains(rows);
  ASSERT_EQ(gains.size(), 1u);
  EXPECT_EQ(gains[0].backend, "onnxruntime");
  EXPECT_DOUBLE_EQ(gains[0].default_throughput, 100);
  EXPECT_DOUBLE_EQ(gains[0].best_throughput, 130);
  EXPECT_DOUBLE_EQ(gains[0].gain, 1.3);
  EXPECT_EQ(gains[0].best_config, "threads=4");
  EXPECT_EQ(gains[0].configurations, 3);
}

TEST(SettingsGains, NoDefaultsRowNoGain) {
  std::vector<Row> rows = {Make("torch", {{"channels_last", "true"}}, 8, 100, 10),
                           Make("torch", {{"freeze", "false"}}, 8, 90, 11)};
  EXPECT_TRUE(SettingsGains(rows).empty());
}

TEST(ParetoFronts, KeepsOnlyTheUndominated) {
  std::vector<Row> rows = {
      Make("onnxruntime", nlohmann::json::object(), 8, 100, 10, 1),  // front: lowest latency
      Make("onnxruntime", nlohmann::json::object(), 8, 300, 40, 8),  // front: highest throughput
      Make("openvino", nlohmann::json::object(), 8, 200, 20, 4),     // front: between
      Make("openvino", {{"num_streams", "2"}}, 8, 150, 30, 4),       // dominated by the one above
      Make("torch", nlohmann::json::object(), 8, 100, 12, 1),        // dominated by row 0
  };
  const auto fronts = ParetoFronts(rows);
  ASSERT_EQ(fronts.size(), 1u);
  EXPECT_EQ(fronts[0].candidates, 5);
  ASSERT_EQ(fronts[0].points.size(), 3u);
  EXPECT_EQ(fronts[0].points[0].row, 0u);
  EXPECT_EQ(fronts[0].points[1].row, 2u);
  EXPECT_EQ(fronts[0].points[2].row, 1u);
  EXPECT_EQ(fronts[0].points[2].config, "onnxruntime");
  EXPECT_EQ(SettingsLabel(rows[3]), "+num_streams=2");
}

TEST(ModelSettingsWinners, WinnerAgainstItsDefaultsAndTheBestDefaults) {
  std::vector<Row> rows = {
      Make("onnxruntime", nlohmann::json::object(), 8, 100, 10, 1),
      Make("onnxruntime", {{"graph_optimization", "basic"}}, 8, 150, 8, 1),
      Make("openvino", nlohmann::json::object(), 8, 120, 9, 8),  // the best defaults row
      Make("openvino", {{"num_streams", "2"}}, 8, 110, 9, 8),
  };
  Row off = Make("torch", {{"channels_last", "true"}}, 8, 900, 1, 1);
  off.parity_pass = false;  // fastest, but out of parity: never the winner
  rows.push_back(off);
  const auto winners = ModelSettingsWinners(rows);
  ASSERT_EQ(winners.size(), 1u);
  const auto& w = winners[0];
  EXPECT_EQ(w.backend, "onnxruntime");
  EXPECT_EQ(w.settings, "+graph_optimization=basic");
  EXPECT_DOUBLE_EQ(w.own_default_throughput, 100);
  EXPECT_DOUBLE_EQ(w.own_gain, 1.5);
  EXPECT_EQ(w.best_default_backend, "openvino");
  EXPECT_EQ(w.best_default_batch, 8);
  EXPECT_DOUBLE_EQ(w.gain_over_best_default, 1.25);

  // Defaults only: nothing was searched, so no winner against the defaults.
  EXPECT_TRUE(ModelSettingsWinners({Make("torch", nlohmann::json::object(), 8, 10, 100)}).empty());
}

TEST(SummarizeGains, MedianAndRangePerBackend) {
  std::vector<SettingsGain> gains(3);
  gains[0].backend = gains[1].backend = "openvino";
  gains[2].backend = "torch";
  gains[0].gain = 1.0;
  gains[1].gain = 1.4;
  gains[2].gain = 2.0;
  const auto s = SummarizeGains(gains);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].backend, "openvino");
  EXPECT_EQ(s[0].cells, 2);
  EXPECT_DOUBLE_EQ(s[0].median_gain, 1.2);
  EXPECT_DOUBLE_EQ(s[0].min_gain, 1.0);
  EXPECT_DOUBLE_EQ(s[0].max_gain, 1.4);
  EXPECT_DOUBLE_EQ(s[1].median_gain, 2.0);
}

}  // namespace
}  // namespace optic::report
