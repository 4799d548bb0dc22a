// Reading results files in optic report: rows, malformed lines, schema versions, missing files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "report/report.h"
#include "report/results.h"

namespace optic::report {
namespace {

const char* kGood =
    R"({"schema":1,"kind":"bench","cell_id":"m|ort|cpu|fp32|b1|t2|offline","model":"m","backend":"ort","device":"cpu","precision":"fp32","batch_size":1,"threads":2,"scenario":"offline","status":"ok","error":null,"throughput_per_s":12.5,"latency_ms":{"p50":80,"p99":95,"p90":null},"latency_percentiles_valid":{"p90":true,"p99":false,"p999":false},"samples":100,"stable":false,"load_s":{"cold":1.5,"cached":0.5},"stages_ms":{"decode":2,"infer":70},"host":{"cpu":"CPU X","hostname":"h1"},"command":"optic bench"})";

// The report's reading of one line.
Status Parse(const std::string& text, Row* r) { return results::ParseLine(text, results::ReadMode::kLenient, r); }

std::string WriteTemp(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("optic_report_test_" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(ParseRow, ReadsEveryField) {
  Row r;
  ASSERT_TRUE(Parse(kGood, &r).ok());
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.batch_size, 1);
  EXPECT_DOUBLE_EQ(*r.throughput_per_s, 12.5);
  EXPECT_DOUBLE_EQ(*r.latency_ms.p50, 80);
  EXPECT_FALSE(r.latency_ms.p90.has_value());
  EXPECT_FALSE(r.p99_valid);
  EXPECT_TRUE(r.p90_valid);
  EXPECT_TRUE(r.unstable());
  EXPECT_DOUBLE_EQ(*r.load_cold_s, 1.5);
  ASSERT_EQ(r.stages_ms.size(), 2u);
  EXPECT_EQ(r.Hardware(), "CPU X");
  EXPECT_EQ(r.MatchKey(), "m|ort|cpu|fp32|b1|t2|offline");
}

TEST(ParseRow, NamesTheBadField) {
  Row r;
  std::string bad = kGood;
  bad.replace(bad.find("\"batch_size\":1"), 14, "\"batch_size\":\"1\"");
  Status s = Parse(bad, &r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("batch_size"), std::string::npos) << s.message();
  s = Parse(R"({"schema":1,"model":"m"})", &r);
  EXPECT_NE(s.message().find("missing required field"), std::string::npos) << s.message();
  s = Parse("{\"schema\":1, trailing", &r);
  EXPECT_NE(s.message().find("not valid JSON"), std::string::npos);
  std::string status = kGood;
  status.replace(status.find("\"status\":\"ok\""), 13, "\"status\":\"great\"");
  EXPECT_NE(Parse(status, &r).message().find("status"), std::string::npos);
}

TEST(LoadResultsFile, SkipsMalformedLineWithFileAndLine) {
  const std::string path = WriteTemp("skip.jsonl", std::string(kGood) + "\n{\"schema\":1,\"model\n\n" +
                                                       "[1,2]\n");
  ResultsSet set;
  ASSERT_TRUE(LoadResultsFile(path, {}, &set).ok());
  EXPECT_EQ(set.rows.size(), 1u);
  ASSERT_EQ(set.warnings.size(), 2u);
  EXPECT_EQ(set.warnings[0].line, 2);
  EXPECT_EQ(set.warnings[1].line, 4);  // the blank line 3 is not a row and not a warning
  EXPECT_NE(set.warnings[0].ToString().find(path + ":2: skipped malformed line"), std::string::npos)
      << set.warnings[0].ToString();
  EXPECT_EQ(set.rows[0].line, 1);
}

TEST(LoadResultsFile, StrictModeFailsOnTheMalformedLine) {
  const std::string path = WriteTemp("strict.jsonl", std::string(kGood) + "\nnot json\n");
  ResultsSet set;
  Status s = LoadResultsFile(path, {.strict = true}, &set);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(path + ":2:"), std::string::npos) << s.message();
}

TEST(LoadResultsFile, UnknownSchemaVersionIsAnErrorEvenWhenNotStrict) {
  std::string v2 = kGood;
  v2.replace(v2.find("\"schema\":1"), 10, "\"schema\":2");
  const std::string path = WriteTemp("v2.jsonl", std::string(kGood) + "\n" + v2 + "\n");
  ResultsSet set;
  Status s = LoadResultsFile(path, {}, &set);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find(":2: results schema version 2 is not supported"), std::string::npos)
      << s.message();
}

TEST(LoadResultsFile, MissingFileIsNotFound) {
  ResultsSet set;
  Status s = LoadResultsFile("/nonexistent/results.jsonl", {}, &set);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nonexistent/results.jsonl"), std::string::npos);
}

TEST(LoadResultsFile, LaterRowOfTheSameCellWins) {
  std::string rerun = kGood;
  rerun.replace(rerun.find("12.5"), 4, "13.0");
  const std::string path = WriteTemp("rerun.jsonl", std::string(kGood) + "\n" + rerun + "\n");
  ResultsSet set;
  ASSERT_TRUE(LoadResultsFile(path, {}, &set).ok());
  ASSERT_EQ(set.rows.size(), 1u);
  EXPECT_DOUBLE_EQ(*set.rows[0].throughput_per_s, 13.0);
  EXPECT_EQ(set.rows[0].line, 2);
  ASSERT_EQ(set.warnings.size(), 1u);
}

// Committed results files: a bench sweep and an optic load run, each read whole and strict.
TEST(LoadResultsFile, ReadsCommittedBenchAndLoadFiles) {
  for (const auto& [file, kind] : {std::pair{"results/cpu/dense-files-20261207/rows.jsonl", "bench"},
                                   {"results/cpu/server-vs-triton/2026-11-22T0503Z-06a6855/load_optic_r1.jsonl", "load"}}) {
    const std::string path = std::string(OPTIC_SOURCE_DIR) + "/" + file;
    ResultsSet set;
    ASSERT_TRUE(LoadResultsFile(path, {.strict = true}, &set).ok()) << path;
    ASSERT_FALSE(set.rows.empty()) << path;
    int ok = 0;
    for (const Row& r : set.rows) {
      EXPECT_EQ(r.kind, kind) << path << ":" << r.line;
      ok += r.ok();
      if (r.ok()) {
        EXPECT_TRUE(r.throughput_per_s.has_value()) << path << ":" << r.line;
        EXPECT_TRUE(r.latency_ms.p50.has_value()) << path << ":" << r.line;
      }
    }
    EXPECT_GT(ok, 0) << path;
  }
  ResultsSet set;
  ASSERT_TRUE(LoadResultsFile(std::string(OPTIC_SOURCE_DIR) +
                                  "/results/cpu/server-vs-triton/2026-11-22T0503Z-06a6855/load_optic_r1.jsonl",
                              {}, &set).ok());
  EXPECT_TRUE(set.rows[0].concurrency.has_value());
  EXPECT_FALSE(set.rows[0].stages_ms.empty());  // the server's split
}

TEST(BuildReport, FailsWhenNoRowIsUsable) {
  const std::string path = WriteTemp("empty.jsonl", "garbage\n");
  ReportOptions options;
  options.inputs = {path};
  Report rep;
  Status s = BuildReport(options, &rep);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("no usable rows"), std::string::npos);
}

}  // namespace
}  // namespace optic::report
