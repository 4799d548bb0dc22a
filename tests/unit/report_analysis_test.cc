// Power-law fit, winner selection and precision speed-ups of optic report (src/report/analysis.h).
#include <gtest/gtest.h>

#include <cmath>

#include "report/analysis.h"

namespace optic::report {
namespace {

Row MakeRow(const std::string& backend, const std::string& precision, int batch, double thr,
            double p50, const std::string& status = "ok") {
  Row r;
  r.kind = "bench";
  r.model = "resnet50";
  r.backend = backend;
  r.device = "cpu";
  r.precision = precision;
  r.batch_size = batch;
  r.threads = 2;
  r.scenario = "offline";
  r.status = status;
  if (status == "ok") {
    r.throughput_per_s = thr;
    r.latency_ms.p50 = p50;
  } else {
    r.error = "UNSUPPORTED: no bf16 here";
  }
  r.host = {{"cpu", "Test CPU"}, {"hostname", "h"}};
  return r;
}

TEST(PowerLawFit, RecoversKnownCoefficients) {
  std::vector<double> x, y;
  for (double t : {10.0, 50.0, 200.0, 1000.0, 5000.0, 20000.0}) {
    x.push_back(t);
    y.push_back(3.5 * std::pow(t, 0.42));
  }
  PowerLaw law;
  ASSERT_TRUE(FitPowerLaw(x, y, &law).ok());
  EXPECT_NEAR(law.a, 3.5, 1e-9);
  EXPECT_NEAR(law.b, 0.42, 1e-12);
  EXPECT_NEAR(law.r2, 1.0, 1e-12);
  EXPECT_EQ(law.n, 6);
}

TEST(PowerLawFit, NoisyDataStaysClose) {
  std::vector<double> x, y;
  const double noise[] = {1.03, 0.97, 1.02, 0.99, 1.01, 0.98, 1.02, 0.99};
  for (int i = 0; i < 8; ++i) {
    x.push_back(100.0 * (i + 1));
    y.push_back(0.8 * std::pow(x.back(), 1.3) * noise[i]);
  }
  PowerLaw law;
  ASSERT_TRUE(FitPowerLaw(x, y, &law).ok());
  EXPECT_NEAR(law.b, 1.3, 0.05);
  EXPECT_NEAR(law.a, 0.8, 0.3);
  EXPECT_GT(law.r2, 0.99);
  EXPECT_LT(law.r2, 1.0);
}

TEST(PowerLawFit, RejectsDegenerateInput) {
  PowerLaw law;
  EXPECT_FALSE(FitPowerLaw({1.0}, {2.0}, &law).ok());                       // one point
  EXPECT_FALSE(FitPowerLaw({5.0, 5.0, 5.0}, {1.0, 2.0, 3.0}, &law).ok());   // one x value
  EXPECT_FALSE(FitPowerLaw({1.0, 2.0}, {0.0, 2.0}, &law).ok());             // log of zero
  EXPECT_FALSE(FitPowerLaw({1.0, -2.0}, {1.0, 2.0}, &law).ok());
  EXPECT_FALSE(FitPowerLaw({1.0, 2.0}, {1.0}, &law).ok());                  // lengths differ
}

TEST(PowerFitByHardware, NeedsThreePointsPerHardware) {
  std::vector<Row> rows;
  for (double t : {100.0, 400.0, 1600.0}) {
    Row r = MakeRow("onnxruntime", "fp32", 1, t, 1.0);
    r.device = "cuda:0";
    r.host["gpu"] = "GPU A";
    r.power_w = 2.0 * std::pow(t, 0.5);
    rows.push_back(r);
  }
  Row lone = rows[0];
  lone.host["gpu"] = "GPU B";
  rows.push_back(lone);
  auto fits = FitPowerByHardware(rows);
  ASSERT_EQ(fits.size(), 1u);
  EXPECT_EQ(fits[0].hardware, "GPU A");
  EXPECT_NEAR(fits[0].law.a, 2.0, 1e-9);
  EXPECT_NEAR(fits[0].law.b, 0.5, 1e-12);
}

TEST(Winners, BestAndRunnerUpPerMetricAreDifferentBackends) {
  std::vector<Row> rows = {
      MakeRow("onnxruntime", "fp32", 1, 40, 25.0), MakeRow("onnxruntime", "fp32", 8, 90, 88.0),
      MakeRow("openvino", "fp32", 1, 50, 20.0),    MakeRow("openvino", "fp32", 8, 80, 100.0),
      MakeRow("torch", "fp32", 1, 30, 33.0),       MakeRow("torch", "fp32", 8, 120, 66.0)};
  auto cells = SelectWinners(rows);
  ASSERT_EQ(cells.size(), 1u);
  const WinnerCell& c = cells[0];
  EXPECT_EQ(c.hardware, "Test CPU");
  ASSERT_TRUE(c.best_latency && c.runner_up_latency);
  EXPECT_EQ(c.best_latency->backend, "openvino");
  EXPECT_DOUBLE_EQ(c.best_latency->value, 20.0);
  EXPECT_EQ(c.runner_up_latency->backend, "onnxruntime");
  ASSERT_TRUE(c.best_throughput && c.runner_up_throughput);
  EXPECT_EQ(c.best_throughput->backend, "torch");
  EXPECT_EQ(c.best_throughput->batch_size, 8);
  EXPECT_EQ(c.runner_up_throughput->backend, "onnxruntime");
  EXPECT_FALSE(c.latency_tie);
  EXPECT_FALSE(c.throughput_tie);
}

TEST(Winners, FailedCellsNeverWinAndAreCounted) {
  std::vector<Row> rows = {MakeRow("onnxruntime", "fp32", 1, 40, 25.0),
                           MakeRow("openvino", "bf16", 1, 0, 0, "unsupported"),
                           MakeRow("torch", "fp32", 1, 0, 0, "failed"),
                           MakeRow("torch", "fp32", 2, 0, 0, "timeout")};
  auto cells = SelectWinners(rows);
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].best_throughput->backend, "onnxruntime");
  EXPECT_FALSE(cells[0].runner_up_throughput.has_value());
  EXPECT_FALSE(cells[0].runner_up_latency.has_value());
  EXPECT_EQ(cells[0].excluded, 3);
}

TEST(Winners, RowsOutOfParityToleranceNeverWinAndAreCounted) {
  std::vector<Row> rows = {MakeRow("torch", "bf16", 8, 900, 1), MakeRow("openvino", "fp32", 8, 300, 3),
                           MakeRow("onnxruntime", "fp32", 8, 200, 4)};
  rows[0].parity_pass = false;
  rows[0].parity_failure = "bf16: top-1 agreement 0.1 < 0.25";
  rows[1].parity_pass = true;
  const auto w = SelectWinners(rows);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].parity_excluded, 1);
  EXPECT_EQ(w[0].best_throughput->config, "openvino");
  EXPECT_TRUE(w[0].best_throughput->parity_checked);
  EXPECT_EQ(w[0].runner_up_throughput->config, "onnxruntime");
  EXPECT_FALSE(w[0].runner_up_throughput->parity_checked);  // no verdict: competes, marked
  EXPECT_EQ(w[0].best_latency->config, "openvino");
  // Every ok row out of tolerance: no winner, and the count says why.
  rows = {rows[0]};
  const auto none = SelectWinners(rows);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_FALSE(none[0].best_throughput);
  EXPECT_EQ(none[0].parity_excluded, 1);
}

TEST(Winners, TiesResolveByBackendNameAndAreFlagged) {
  std::vector<Row> rows = {MakeRow("torch", "fp32", 1, 100, 10.0),
                           MakeRow("openvino", "fp32", 1, 100, 10.0),
                           MakeRow("onnxruntime", "fp32", 1, 90, 11.0)};
  auto cells = SelectWinners(rows);
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].best_throughput->backend, "openvino");
  EXPECT_EQ(cells[0].runner_up_throughput->backend, "torch");
  EXPECT_TRUE(cells[0].throughput_tie);
  EXPECT_EQ(cells[0].best_latency->backend, "openvino");
  EXPECT_TRUE(cells[0].latency_tie);
}

TEST(Winners, SeparateCellsPerHardwareAndModelAndIgnoreLoadRows) {
  Row gpu = MakeRow("torch", "fp16", 8, 5000, 1.6);
  gpu.device = "cuda:0";
  gpu.host["gpu"] = "NVIDIA H100";
  Row other_model = MakeRow("openvino", "fp32", 1, 300, 3.0);
  other_model.model = "mobilenet_v2";
  Row load = MakeRow("onnxruntime", "fp32", 8, 1e6, 0.001);
  load.kind = "load";
  Row server = MakeRow("onnxruntime", "fp32", 8, 1e6, 0.001);
  server.scenario = "server";
  std::vector<Row> rows = {MakeRow("onnxruntime", "fp32", 1, 40, 25.0), gpu, other_model, load, server};
  auto cells = SelectWinners(rows);
  ASSERT_EQ(cells.size(), 3u);
  for (const auto& c : cells) {
    if (c.hardware == "NVIDIA H100") EXPECT_EQ(c.best_throughput->backend, "torch");
    if (c.model == "mobilenet_v2") EXPECT_EQ(c.best_latency->backend, "openvino");
    if (c.hardware == "Test CPU" && c.model == "resnet50") {
      EXPECT_DOUBLE_EQ(c.best_throughput->value, 40.0);  // the load and server rows did not count
    }
  }
}

TEST(Speedups, MatchTheFp32RowOfTheSameCell) {
  std::vector<Row> rows = {MakeRow("onnxruntime", "fp32", 8, 100, 80),
                           MakeRow("onnxruntime", "bf16", 8, 150, 53),
                           MakeRow("onnxruntime", "bf16", 16, 170, 94),  // no fp32 at b16
                           MakeRow("openvino", "bf16", 8, 0, 0, "unsupported")};
  rows[1].max_abs_err = 0.03;
  auto s = PrecisionSpeedups(rows);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].precision, "bf16");
  EXPECT_EQ(s[0].batch_size, 8);
  EXPECT_DOUBLE_EQ(s[0].speedup, 1.5);
  EXPECT_DOUBLE_EQ(*s[0].max_abs_err, 0.03);
}

}  // namespace
}  // namespace optic::report
