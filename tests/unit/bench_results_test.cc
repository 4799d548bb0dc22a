// The results schema writer and checker: every required field present, bad rows rejected,
// append-safe writing, torn lines skipped on read.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bench/results.h"

namespace optic::bench {
namespace {

using nlohmann::json;

json OkRow() {
  CellSpec c;
  c.model = "m";
  c.backend = "b";
  RunInfo run{"run", "optic bench", {{"optic", "0.1.0"}}, {{"cpu", "x"}}};
  json r = RowSkeleton(c, run);
  r["status"] = "ok";
  r["error"] = nullptr;
  r["throughput_per_s"] = 10.0;
  SetLatency(measure::Summarize({1, 2, 3}), &r);
  return r;
}

TEST(BenchResults, SkeletonHasEveryRequiredFieldOfTheIssue) {
  const json r = OkRow();
  for (const char* k : {"model", "backend", "device", "precision", "batch_size", "threads", "scenario",
                        "status", "error", "throughput_per_s", "latency_ms", "samples", "stable",
                        "load_s", "first_inference_ms", "peak_rss_mb", "gpu_mem_peak_mb", "power_w",
                        "energy_j_per_inference", "max_abs_err", "max_rel_err", "versions", "host",
                        "cell_id", "run_id", "schema", "kind", "settings", "command"}) {
    EXPECT_TRUE(r.contains(k)) << k;
  }
  for (const char* k : {"p50", "p90", "p95", "p99", "p999", "mean", "min", "max"}) {
    EXPECT_TRUE(r["latency_ms"].contains(k)) << k;
  }
  EXPECT_EQ(ValidateRow(r), "");
  EXPECT_EQ(r["samples"], 3);
  EXPECT_FALSE(r["latency_percentiles_valid"]["p90"].get<bool>());
}

TEST(BenchResults, ValidatorRejectsBadRows) {
  json r = OkRow();
  r.erase("max_abs_err");
  EXPECT_NE(ValidateRow(r).find("max_abs_err"), std::string::npos);
  r = OkRow();
  r["status"] = "great";
  EXPECT_NE(ValidateRow(r), "");
  r = OkRow();
  r["throughput_per_s"] = nullptr;  // ok rows must carry a throughput
  EXPECT_NE(ValidateRow(r), "");
  r = OkRow();
  r["status"] = "failed";  // failed rows must say why
  EXPECT_NE(ValidateRow(r), "");
  r["error"] = "crashed";
  EXPECT_EQ(ValidateRow(r), "");
  r = OkRow();
  r["latency_ms"].erase("p999");
  EXPECT_NE(ValidateRow(r), "");
  r = OkRow();
  r["batch_size"] = "8";
  EXPECT_NE(ValidateRow(r), "");
}

TEST(BenchResults, ParityAgreementFieldsAreTypedWhenPresent) {
  json r = OkRow();
  EXPECT_EQ(ValidateRow(r), "");  // older rows have none of them
  r["cosine_similarity"] = 0.998;
  r["top1_agreement"] = 0.75;
  r["top5_agreement"] = nullptr;  // not class scores
  r["parity_samples"] = 32;
  r["parity_pass"] = true;
  r["parity_failure"] = nullptr;
  EXPECT_EQ(ValidateRow(r), "");
  json bad = r;
  bad["top1_agreement"] = 1.5;
  EXPECT_NE(ValidateRow(bad).find("top1_agreement is not in [0, 1]"), std::string::npos);
  bad = r;
  bad["cosine_similarity"] = "high";
  EXPECT_NE(ValidateRow(bad).find("cosine_similarity"), std::string::npos);
  bad = r;
  bad["parity_pass"] = false;
  EXPECT_NE(ValidateRow(bad).find("without parity_failure"), std::string::npos);
  bad["parity_failure"] = "bf16: top-1 agreement 0.1 < 0.25";
  EXPECT_EQ(ValidateRow(bad), "");
}

TEST(BenchResults, WriterAppendsWholeLinesAndReaderSkipsTornOnes) {
  const std::string dir = ::testing::TempDir() + "/bench_results_" + std::to_string(getpid());
  const std::string path = dir + "/r.jsonl";
  std::filesystem::remove_all(dir);
  {
    ResultsWriter w;
    ASSERT_TRUE(w.Open(path).ok());
    ASSERT_TRUE(w.Append(OkRow()).ok());
    ASSERT_TRUE(w.Append(OkRow()).ok());
  }
  {
    ResultsWriter w;  // a second sweep appends, never truncates
    ASSERT_TRUE(w.Open(path).ok());
    ASSERT_TRUE(w.Append(OkRow()).ok());
  }
  std::ofstream(path, std::ios::app) << "{\"torn\": ";  // what a power loss could leave
  std::vector<json> rows;
  int bad = 0;
  ASSERT_TRUE(ReadRows(path, &rows, &bad).ok());
  EXPECT_EQ(rows.size(), 3u);
  EXPECT_EQ(bad, 1);
  FileCheck check;
  ASSERT_TRUE(ValidateFile(path, &check).ok());
  EXPECT_EQ(check.rows, 4);
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_NE(check.errors[0].find("line 4"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace optic::bench
