// The result row (results/row.h): a cell's row has every required field, the one reader in its
// strict mode rejects bad rows and names the field, the writer validates and appends whole
// lines, the reader skips torn ones.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bench/results.h"
#include "measure/stats.h"
#include "results/row.h"

namespace optic::results {
namespace {

using nlohmann::json;

Row OkRow() {
  bench::CellSpec c;
  c.model = "m";
  c.backend = "b";
  Row r = bench::RowFor(c, bench::RunInfo{"run", "optic bench", {{"optic", "0.1.0"}}, {{"cpu", "x"}}});
  r.status = "ok";
  r.error.clear();
  r.throughput_per_s = 10.0;
  r.SetLatency(measure::Summarize({1, 2, 3}));
  return r;
}

// Empty when `row` reads in strict mode, else the reader's message.
std::string Problem(const json& row) {
  Row r;
  Status s = FromJson(row, ReadMode::kStrict, &r);
  return s.ok() ? "" : s.message();
}

TEST(ResultRow, CellRowHasEveryRequiredField) {
  const json r = ToJson(OkRow());
  for (const char* k : {"model", "backend", "device", "precision", "batch_size", "threads", "scenario",
                        "status", "error", "throughput_per_s", "latency_ms", "samples", "stable",
                        "load_s", "first_inference_ms", "peak_rss_mb", "gpu_mem_peak_mb", "power_w",
                        "energy_j_per_inference", "max_abs_err", "max_rel_err", "versions", "host",
                        "cell_id", "run_id", "schema", "kind", "settings", "command", "windows",
                        "latency_percentiles_valid", "parity_reference", "source_file", "converted_by"}) {
    EXPECT_TRUE(r.contains(k)) << k;
  }
  for (const char* k : {"p50", "p90", "p95", "p99", "p999", "mean", "min", "max"}) {
    EXPECT_TRUE(r["latency_ms"].contains(k)) << k;
  }
  EXPECT_EQ(Problem(r), "");
  EXPECT_EQ(r["schema"], kSchemaVersion);
  EXPECT_EQ(r["samples"], 3);
  EXPECT_TRUE(r["error"].is_null());
  EXPECT_TRUE(r["converted_by"].is_null());  // read natively: null, not absent
  EXPECT_FALSE(r["latency_percentiles_valid"]["p90"].get<bool>());
  EXPECT_FALSE(r.contains("server"));  // kind-specific fields only where set
  EXPECT_FALSE(r.contains("repeat"));
}

TEST(ResultRow, RoundTripsThroughJson) {
  Row r = OkRow();
  r.repeat = 2;
  r.repeats = 3;
  r.top1_agreement = 0.75;
  r.parity_pass = true;
  r.stages_ms = {{"decode", 1.5}, {"infer", 2.5}};
  r.server = {{"target_qps", 10}};
  Row back;
  ASSERT_TRUE(ParseLine(ToLine(r), ReadMode::kStrict, &back).ok());
  EXPECT_EQ(ToJson(back), ToJson(r));
  EXPECT_EQ(back.repeat_index(), 2);
  EXPECT_EQ(back.stages_ms.size(), 2u);
}

TEST(ResultRow, StrictReaderRejectsBadRows) {
  json r = ToJson(OkRow());
  r.erase("max_abs_err");
  EXPECT_NE(Problem(r).find("max_abs_err"), std::string::npos);
  r = ToJson(OkRow());
  r["status"] = "great";
  EXPECT_NE(Problem(r), "");
  r = ToJson(OkRow());
  r["throughput_per_s"] = nullptr;  // ok rows must carry a throughput
  EXPECT_NE(Problem(r), "");
  r = ToJson(OkRow());
  r["status"] = "failed";  // failed rows must say why
  EXPECT_NE(Problem(r), "");
  r["error"] = "crashed";
  EXPECT_EQ(Problem(r), "");
  r = ToJson(OkRow());
  r["latency_ms"].erase("p999");
  EXPECT_NE(Problem(r), "");
  r = ToJson(OkRow());
  r["batch_size"] = "8";
  EXPECT_NE(Problem(r).find("batch_size"), std::string::npos);
  r = ToJson(OkRow());
  r["samples"] = nullptr;
  EXPECT_NE(Problem(r).find("samples"), std::string::npos);
  r = ToJson(OkRow());
  r["schema"] = 2;
  Row out;
  EXPECT_EQ(FromJson(r, ReadMode::kStrict, &out).code(), StatusCode::kUnsupported);
  // The lenient reader (optic report) reads a row that has only its key fields.
  EXPECT_TRUE(ParseLine(R"({"schema":1,"model":"m","backend":"b","device":"cpu","precision":"fp32",)"
                        R"("batch_size":1,"status":"failed"})",
                        ReadMode::kLenient, &out).ok());
  EXPECT_FALSE(ParseLine(R"({"schema":1,"model":"m"})", ReadMode::kLenient, &out).ok());
}

TEST(ResultRow, ParityAgreementFieldsAreTypedWhenPresent) {
  json r = ToJson(OkRow());
  r["cosine_similarity"] = 0.998;
  r["top1_agreement"] = 0.75;
  r["top5_agreement"] = nullptr;  // not class scores
  r["parity_samples"] = 32;
  r["parity_pass"] = true;
  r["parity_failure"] = nullptr;
  EXPECT_EQ(Problem(r), "");
  json bad = r;
  bad["top1_agreement"] = 1.5;
  EXPECT_NE(Problem(bad).find("top1_agreement is not in [0, 1]"), std::string::npos);
  bad = r;
  bad["cosine_similarity"] = "high";
  EXPECT_NE(Problem(bad).find("cosine_similarity"), std::string::npos);
  bad = r;
  bad["parity_pass"] = false;
  EXPECT_NE(Problem(bad).find("without parity_failure"), std::string::npos);
  bad["parity_failure"] = "bf16: top-1 agreement 0.1 < 0.25";
  EXPECT_EQ(Problem(bad), "");
}

TEST(ResultRow, WriterValidatesAppendsWholeLinesAndReaderSkipsTornOnes) {
  const std::string dir = ::testing::TempDir() + "/results_row_" + std::to_string(getpid());
  const std::string path = dir + "/r.jsonl";
  std::filesystem::remove_all(dir);
  {
    ResultsWriter w;
    ASSERT_TRUE(w.Open(path).ok());
    ASSERT_TRUE(w.Append(OkRow()).ok());
    ASSERT_TRUE(w.Append(OkRow()).ok());
    Row bad = OkRow();
    bad.throughput_per_s.reset();  // ok without a throughput: not written
    Status s = w.Append(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("does not match the schema"), std::string::npos) << s.message();
  }
  {
    ResultsWriter w;  // a second sweep appends, never truncates
    ASSERT_TRUE(w.Open(path).ok());
    ASSERT_TRUE(w.Append(ToJson(OkRow())).ok());
    EXPECT_FALSE(w.Append(json{{"schema", 1}, {"model", "m"}}).ok());
  }
  std::ofstream(path, std::ios::app) << "{\"torn\": ";  // what a power loss could leave
  std::vector<Row> rows;
  std::vector<LineError> errors;
  ASSERT_TRUE(ReadFile(path, ReadMode::kStrict, &rows, &errors).ok());
  EXPECT_EQ(rows.size(), 3u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 4);
  EXPECT_EQ(rows[2].line, 3);
  EXPECT_EQ(rows[2].file, path);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace optic::results
