// The winner matrix across backends x precisions (report/matrix.h) on the committed int8 run
// (results/cpu/int8-20261207/rows.jsonl: resnet50, mobilenet_v2 x onnxruntime, openvino x
// fp32/int8/fp16 x batch 1, 8, read as optic report reads it), plus rows that must not win:
// unsupported, timed out, failed, out of parity; and the Markdown section with its reasons.
#include <gtest/gtest.h>

#include <sstream>

#include "report/matrix.h"

namespace optic::report {
namespace {

std::vector<Row> CommittedRun(const std::string& run = "int8-20261207") {
  ResultsSet set;
  const Status s = LoadResultsFile(
      std::string(OPTIC_SOURCE_DIR) + "/results/cpu/" + run + "/rows.jsonl", LoadOptions{}, &set);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return set.rows;
}

int Column(const BackendPrecisionMatrix& m, const std::string& backend, const std::string& p) {
  for (size_t i = 0; i < m.columns.size(); ++i) {
    if (m.columns[i].backend == backend && m.columns[i].precision == p) return static_cast<int>(i);
  }
  return -1;
}

const MatrixLine* Line(const BackendPrecisionMatrix& m, const std::string& model) {
  for (const auto& l : m.lines) {
    if (l.model == model) return &l;
  }
  return nullptr;
}

TEST(BackendPrecisionMatrix, CommittedInt8RunWinners) {
  const auto m = BuildBackendPrecisionMatrix(CommittedRun());
  ASSERT_EQ(m.columns.size(), 6u);  // 2 backends x fp32, fp16, int8; fp32 first
  EXPECT_EQ(m.columns[0].precision, "fp32");
  EXPECT_EQ(m.columns[2].precision, "int8");
  ASSERT_EQ(m.lines.size(), 2u);

  const MatrixLine* r50 = Line(m, "resnet50");
  ASSERT_NE(r50, nullptr);
  const int ort_int8 = Column(m, "onnxruntime", "int8");
  const int ov_int8 = Column(m, "openvino", "int8");
  EXPECT_EQ(r50->best_throughput, ort_int8);  // 39.2/s at b8
  const auto& t = r50->cells[ort_int8].throughput;
  ASSERT_TRUE(t.has_value());
  EXPECT_NEAR(t->value, 39.19, 0.01);
  EXPECT_EQ(t->batch_size, 8);
  EXPECT_EQ(t->settings, "defaults");
  EXPECT_NEAR(r50->throughput_margin, 39.19 / 27.34, 0.01);  // over openvino int8 b1
  EXPECT_EQ(r50->best_latency, ov_int8);                     // 33.7 ms at b1
  EXPECT_NEAR(r50->cells[ov_int8].latency->value, 33.7, 0.05);

  // mobilenet_v2's int8 rows are all out of parity: empty cells, and fp32 openvino wins.
  const MatrixLine* mb = Line(m, "mobilenet_v2");
  ASSERT_NE(mb, nullptr);
  EXPECT_EQ(mb->best_throughput, Column(m, "openvino", "fp32"));
  EXPECT_EQ(mb->best_latency, Column(m, "openvino", "fp32"));
  const MatrixCell& c = mb->cells[ov_int8];
  EXPECT_FALSE(c.throughput.has_value());
  EXPECT_EQ(c.empty_status, "out of parity");
  EXPECT_EQ(c.parity_excluded, 2);
  EXPECT_FALSE(c.reason.empty());
}

// The committed CPU grid (results/cpu/grid-20261207): 4 backends x fp32/int8, unsupported
// int8 rows with the backend's reason, iree timeouts counted beside its measured cells.
TEST(BackendPrecisionMatrix, CommittedGridRun) {
  const auto m = BuildBackendPrecisionMatrix(CommittedRun("grid-20261207"));
  ASSERT_EQ(m.columns.size(), 8u);
  ASSERT_EQ(m.lines.size(), 5u);
  const int torch_int8 = Column(m, "torch", "int8");
  const int iree32 = Column(m, "iree", "fp32");
  const int ov_int8 = Column(m, "openvino", "int8");
  ASSERT_GE(torch_int8, 0);
  for (const auto& l : m.lines) {
    EXPECT_EQ(l.cells[torch_int8].empty_status, "unsupported") << l.model;
    EXPECT_NE(l.cells[torch_int8].reason.find("no int8"), std::string::npos) << l.model;
    EXPECT_EQ(l.cells[torch_int8].unsupported, 3) << l.model;  // batch 1, 8, 64
    EXPECT_NE(l.best_throughput, torch_int8);
  }
  const MatrixLine* r50 = Line(m, "resnet50");
  ASSERT_NE(r50, nullptr);
  EXPECT_EQ(r50->cells[iree32].timeout, 2);
  EXPECT_TRUE(r50->cells[iree32].throughput.has_value());
  EXPECT_EQ(r50->best_throughput, ov_int8);
  // MobileNet-V2's int8 rows are out of parity on both backends: fp32 wins there.
  const MatrixLine* mb = Line(m, "mobilenet_v2");
  ASSERT_NE(mb, nullptr);
  EXPECT_EQ(mb->cells[ov_int8].empty_status, "out of parity");
  EXPECT_EQ(m.columns[mb->best_throughput].precision, "fp32");
}

Row Make(const std::string& backend, const std::string& precision, const std::string& status,
         int batch, double tput) {
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
  r.host = {{"cores", 2}, {"cpu", "Test CPU"}};
  if (status == "ok") {
    r.throughput_per_s = tput;
    r.latency_ms.p50 = 1000.0 * batch / tput;
  } else {
    r.error = backend + " " + status + " here";
  }
  return r;
}

TEST(BackendPrecisionMatrix, EmptyCellsSayWhyAndNeverWin) {
  std::vector<Row> rows = {
      Make("torch", "fp32", "ok", 1, 10),
      Make("torch", "fp32", "timeout", 64, 0),     // counted beside the measured b1
      Make("torch", "int8", "unsupported", 1, 0),  // unsupported beats failed as the reason
      Make("torch", "int8", "failed", 8, 0),
      Make("iree", "fp32", "failed", 1, 0),
      Make("onnxruntime", "int8", "ok", 1, 30),
  };
  Row fast_wrong = Make("onnxruntime", "int8", "ok", 8, 500);
  fast_wrong.parity_pass = false;
  fast_wrong.parity_failure = "cosine 0.5 < 0.9";
  rows.push_back(fast_wrong);
  Row server = Make("iree", "fp32", "ok", 1, 900);
  server.scenario = "server";  // latency under load: not a competitor here
  rows.push_back(server);

  const auto m = BuildBackendPrecisionMatrix(rows);
  ASSERT_EQ(m.lines.size(), 1u);
  const MatrixLine& l = m.lines[0];
  const int ort_int8 = Column(m, "onnxruntime", "int8");
  EXPECT_EQ(l.best_throughput, ort_int8);
  EXPECT_DOUBLE_EQ(l.cells[ort_int8].throughput->value, 30);
  EXPECT_EQ(l.cells[ort_int8].parity_excluded, 1);
  EXPECT_DOUBLE_EQ(l.throughput_margin, 3);

  const MatrixCell& torch32 = l.cells[Column(m, "torch", "fp32")];
  EXPECT_EQ(torch32.timeout, 1);
  EXPECT_TRUE(torch32.empty_status.empty());
  const MatrixCell& torch8 = l.cells[Column(m, "torch", "int8")];
  EXPECT_EQ(torch8.empty_status, "unsupported");
  EXPECT_EQ(torch8.reason, "torch unsupported here");
  const MatrixCell& iree = l.cells[Column(m, "iree", "fp32")];
  EXPECT_EQ(iree.empty_status, "failed");
  EXPECT_EQ(iree.reason, "iree failed here");

  std::ostringstream md;
  WriteMatrixMarkdown(m, md);
  const std::string s = md.str();
  EXPECT_NE(s.find("## Winner matrix: backend x precision"), std::string::npos);
  EXPECT_NE(s.find("| torch fp32 | torch int8 | iree fp32 | onnxruntime int8 |"), std::string::npos) << s;
  EXPECT_NE(s.find("**30/s** b1"), std::string::npos) << s;
  EXPECT_NE(s.find("10/s b1 · 100 ms b1 (+1 timeout)"), std::string::npos) << s;
  EXPECT_NE(s.find("**onnxruntime int8** b1, 3.00x the next"), std::string::npos) << s;
  EXPECT_NE(s.find("- torch int8, unsupported (torch unsupported here): resnet50"), std::string::npos) << s;
  EXPECT_NE(s.find("- iree fp32, failed (iree failed here): resnet50"), std::string::npos) << s;
}

TEST(BackendPrecisionMatrix, OneColumnWritesNothing) {
  const auto m = BuildBackendPrecisionMatrix({Make("torch", "fp32", "ok", 1, 10)});
  std::ostringstream md;
  WriteMatrixMarkdown(m, md);
  EXPECT_TRUE(md.str().empty());
}

}  // namespace
}  // namespace optic::report
