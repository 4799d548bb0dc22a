// The terminal, Markdown and HTML reporters of optic report, on the committed fixture.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "bench/progress.h"
#include "report/html_data.h"
#include "report/report.h"

namespace optic::report {
namespace {

const std::string kFixture = std::string(OPTIC_SOURCE_DIR) + "/tests/fixtures/results_fixture.jsonl";
const std::string kBase = std::string(OPTIC_SOURCE_DIR) + "/tests/fixtures/results_fixture_base.jsonl";

void Build(Report* rep, bool compare) {
  ReportOptions o;
  o.inputs = {kFixture};
  if (compare) o.compare_base = kBase;
  ASSERT_TRUE(BuildReport(o, rep).ok());
}

TEST(TerminalReporter, ListsRowsWinnersAndFailures) {
  Report rep;
  Build(&rep, true);
  std::ostringstream out;
  ASSERT_TRUE(MakeTerminalReporter()->Write(rep, out).ok());
  const std::string text = out.str();
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(resnet50\s+bench\s+onnxruntime\s+cpu\s+fp32\s+1\s+-\s+offline\s)")));
  EXPECT_NE(text.find("failed: OUT_OF_MEMORY: torch: CUDA out of memory"), std::string::npos);
  EXPECT_NE(text.find("unstable"), std::string::npos);
  EXPECT_NE(text.find("p99-low-samples"), std::string::npos);
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(power fit on NVIDIA H100 80GB HBM3: P = [0-9.]+ \* throughput\^0\.4)")));
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(REGRESSION resnet50 openvino cpu fp32 b\d+: throughput -1\d\.\d%)")));
}

TEST(MarkdownReporter, HasTablesAndEscapesPipes) {
  Report rep;
  Build(&rep, true);
  std::ostringstream out;
  ASSERT_TRUE(MakeMarkdownReporter()->Write(rep, out).ok());
  const std::string md = out.str();
  EXPECT_NE(md.find("## Winners per hardware and model"), std::string::npos);
  EXPECT_NE(md.find("| hardware | model | min latency (p50) |"), std::string::npos);
  EXPECT_NE(md.find("## Reduced precision vs fp32"), std::string::npos);
  EXPECT_NE(md.find("## Cells that did not run (8)"), std::string::npos);
  EXPECT_NE(md.find("🔴 regression"), std::string::npos);
  EXPECT_NE(md.find("NVIDIA H100 80GB HBM3"), std::string::npos);
  // Rows of the 3-column failure table keep 4 column pipes: pipes inside reasons are escaped.
  std::istringstream lines(md);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("| cell | status | reason |", 0) != 0) continue;
    std::getline(lines, line);  // separator
    while (std::getline(lines, line) && !line.empty()) {
      const auto pipes = std::count(line.begin(), line.end(), '|');
      size_t escaped = 0;
      for (size_t i = line.find("\\|"); i != std::string::npos; i = line.find("\\|", i + 2)) ++escaped;
      EXPECT_EQ(pipes - static_cast<long>(escaped), 4) << line;
      ++rows;
    }
  }
  EXPECT_EQ(rows, 8);
}

TEST(MarkdownReporter, EscapesPipesInReasons) {
  const auto path = std::filesystem::temp_directory_path() / "optic_report_pipes.jsonl";
  std::ofstream(path) << R"({"schema":1,"model":"m","backend":"b","device":"cpu","precision":"fp32",)"
                      << R"("batch_size":1,"status":"failed","error":"shape [1|3] | bad"})" << "\n";
  ReportOptions o;
  o.inputs = {path.string()};
  Report rep;
  ASSERT_TRUE(BuildReport(o, &rep).ok());
  std::ostringstream out;
  ASSERT_TRUE(MakeMarkdownReporter()->Write(rep, out).ok());
  EXPECT_NE(out.str().find("| m b cpu fp32 b1 | failed | shape [1\\|3] \\| bad |"), std::string::npos) << out.str();
}

// A fast configuration whose outputs are out of its precision's parity limits is never the
// recommendation, and every format says which rows are out of tolerance and why.
class ParityMarking : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("optic_report_parity_" + std::to_string(getpid()) + ".jsonl");
    auto row = [](const std::string& model, const std::string& backend, const std::string& prec, double thr,
                  const char* parity) {
      std::string r = R"({"schema":1,"kind":"bench","model":")" + model + R"(","backend":")" + backend +
                      R"(","device":"cpu","precision":")" + prec + R"(","batch_size":8,"threads":2,)" +
                      R"("scenario":"offline","status":"ok","error":null,"throughput_per_s":)" +
                      std::to_string(thr) + R"(,"latency_ms":{"p50":)" + std::to_string(8000 / thr) +
                      R"(},"samples":100,"stable":true,"parity_reference":"torch/fp32")";
      return r + parity + "}\n";
    };
    const char* fail = R"(,"rel_l2_err":0.4,"cosine_similarity":0.2,"top1_agreement":0.03,"top5_agreement":0.1,)"
                       R"("parity_samples":32,"parity_pass":false,"parity_failure":"bf16: cosine 0.2 < 0.8; top-1 agreement 0.03 < 0.25")";
    const char* pass = R"(,"rel_l2_err":1e-6,"cosine_similarity":1,"top1_agreement":1,"top5_agreement":1,)"
                       R"("parity_samples":32,"parity_pass":true,"parity_failure":null)";
    std::ofstream(path_) << row("resnet50", "openvino", "bf16", 900, fail)
                         << row("resnet50", "onnxruntime", "fp32", 300, pass)
                         << row("vgg19", "openvino", "bf16", 500, fail)
                         << row("mobilenet_v2", "torch", "fp32", 700, "");  // written before verdicts
    ReportOptions o;
    o.inputs = {path_.string()};
    ASSERT_TRUE(BuildReport(o, &rep_).ok());
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_;
  Report rep_;
};

TEST_F(ParityMarking, Markdown) {
  std::ostringstream out;
  ASSERT_TRUE(MakeMarkdownReporter()->Write(rep_, out).ok());
  const std::string md = out.str();
  EXPECT_NE(md.find("| cpu | resnet50 | **onnxruntime** 26.7 ms (fp32, b8) | - | **onnxruntime** 300 /s (fp32, b8) | - | 1 |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("| cpu | vgg19 | none within parity limits (1 out of tolerance) |"), std::string::npos) << md;
  EXPECT_NE(md.find("**torch** 700 /s (fp32, b8) ⚠ parity not checked"), std::string::npos) << md;
  EXPECT_NE(md.find("## Out of parity tolerance (2)"), std::string::npos) << md;
  EXPECT_NE(md.find("| resnet50 openvino cpu bf16 b8 | offline | torch/fp32 | bf16: cosine 0.2 < 0.8; top-1 agreement 0.03 < 0.25 |"),
            std::string::npos) << md;
}

TEST_F(ParityMarking, Terminal) {
  std::ostringstream out;
  ASSERT_TRUE(MakeTerminalReporter()->Write(rep_, out).ok());
  const std::string text = out.str();
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(resnet50 +bench +openvino .* ok PARITY-FAIL \(bf16: cosine 0\.2 < 0\.8)")))
      << text;
  EXPECT_NE(text.find("cpu | resnet50: min latency onnxruntime/fp32/b8 26.7 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("1 row(s) out of parity tolerance not counted"), std::string::npos) << text;
  EXPECT_NE(text.find("cpu | vgg19: min latency none within parity limits"), std::string::npos) << text;
  EXPECT_NE(text.find("torch/fp32/b8 700 (parity not checked)"), std::string::npos) << text;
}

TEST_F(ParityMarking, HtmlData) {
  const nlohmann::json d = ReportJson(rep_);
  bool saw_fail = false;
  for (const auto& r : d["rows"]) {
    if (r["backend"] == "openvino" && r["model"] == "resnet50") {
      EXPECT_EQ(r["parity_pass"], false);
      EXPECT_EQ(r["top1_agreement"], 0.03);
      saw_fail = true;
    }
  }
  EXPECT_TRUE(saw_fail);
  for (const auto& w : d["winners"]) {
    if (w["model"] == "resnet50") {
      EXPECT_EQ(w["parity_excluded"], 1);
      EXPECT_EQ(w["throughput"]["config"], "onnxruntime");
      EXPECT_EQ(w["throughput"]["parity_checked"], true);
    }
  }
  // The page's script shows both: the badge on a winner without a verdict, the excluded count.
  std::ostringstream out;
  ASSERT_TRUE(MakeHtmlReporter(DefaultChartJsPath())->Write(rep_, out).ok());
  EXPECT_NE(out.str().find("parity not checked"), std::string::npos);
  EXPECT_NE(out.str().find("out of parity tolerance, not counted"), std::string::npos);
}

TEST_F(ParityMarking, BenchSummary) {
  std::vector<results::Row> rows;
  ASSERT_TRUE(results::ReadFile(path_, results::ReadMode::kLenient, &rows, nullptr).ok());
  char* buf = nullptr;
  size_t size = 0;
  FILE* f = open_memstream(&buf, &size);
  ASSERT_NE(f, nullptr);
  bench::PrintSummary(rows, f);
  std::fclose(f);
  const std::string text(buf, size);
  std::free(buf);
  EXPECT_TRUE(std::regex_search(text, std::regex(R"(\nresnet50 +\| .*\| onnxruntime fp32 b8 t2 +300\.0)"))) << text;
  EXPECT_EQ(text.find("openvino bf16 b8 t2  "), std::string::npos) << text;
  EXPECT_NE(text.find("parity: 2 row(s) out of their precision's limits, not recommended above:"), std::string::npos) << text;
  EXPECT_NE(text.find("  resnet50 openvino cpu bf16 b8 offline: bf16: cosine 0.2 < 0.8"), std::string::npos) << text;
  EXPECT_NE(text.find("torch fp32 b8 t2 (parity not checked)"), std::string::npos) << text;
}

TEST(HtmlReporter, EmbedsChartJsDataAndScript) {
  Report rep;
  Build(&rep, false);
  std::ostringstream out;
  ASSERT_TRUE(MakeHtmlReporter(DefaultChartJsPath())->Write(rep, out).ok())
      << "Chart.js missing at " << DefaultChartJsPath();
  const std::string html = out.str();
  EXPECT_NE(html.find("Chart.js v3"), std::string::npos);
  EXPECT_NE(html.find("<script id=\"optic-data\" type=\"application/json\">"), std::string::npos);
  EXPECT_NE(html.find("\"power_fits\":[{"), std::string::npos);
  // Self-contained: nothing is loaded from elsewhere.
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  // The data cannot close its script element early.
  const size_t data = html.find('>', html.find("<script id=\"optic-data\"")) + 1;
  const size_t end = html.find("</script>", data);
  ASSERT_GT(end - data, 1000u);
  EXPECT_EQ(html.substr(data, end - data).find('<'), std::string::npos);
}

TEST(HtmlReporter, MissingChartJsIsAClearError) {
  Report rep;
  Build(&rep, false);
  std::ostringstream out;
  Status s = MakeHtmlReporter("/nonexistent/chart.min.js")->Write(rep, out);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("libjs-chart.js"), std::string::npos);
  EXPECT_NE(s.message().find("--chartjs"), std::string::npos);
}

}  // namespace
}  // namespace optic::report
