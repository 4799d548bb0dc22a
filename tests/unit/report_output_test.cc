// The terminal, Markdown and HTML reporters of optic report, on the committed fixture.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

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
