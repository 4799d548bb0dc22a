// The Markdown summary's machine line: framework versions as name=value pairs, unknown (null)
// versions left out.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report/report.h"

namespace optic::report {
namespace {

TEST(MarkdownReporter, VersionsAreNameValuePairsWithoutNulls) {
  std::ifstream in(std::string(OPTIC_SOURCE_DIR) + "/tests/fixtures/results_fixture.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto row = nlohmann::json::parse(line);
  row["host"]["hostname"] = "versions-test-host";
  row["versions"] = {{"gpu_driver", nullptr}, {"null", "1"}, {"onnxruntime", "1.29.0"},
                     {"openvino", nullptr}, {"optic", "0.1.0"}};
  const auto path = std::filesystem::temp_directory_path() /
                    ("optic_versions_" + std::to_string(getpid()) + ".jsonl");
  std::ofstream(path) << row.dump() << "\n";
  ReportOptions o;
  o.inputs = {path.string()};
  Report rep;
  ASSERT_TRUE(BuildReport(o, &rep).ok());
  std::ostringstream out;
  ASSERT_TRUE(MakeMarkdownReporter()->Write(rep, out).ok());
  std::filesystem::remove(path);
  const std::string text = out.str();
  std::string host_line;
  std::istringstream lines(text);
  while (std::getline(lines, line)) {
    if (line.find("versions-test-host") != std::string::npos) host_line = line;
  }
  ASSERT_FALSE(host_line.empty()) << text;
  EXPECT_NE(host_line.find("versions: null=1, onnxruntime=1.29.0, optic=0.1.0"), std::string::npos)
      << host_line;
  EXPECT_EQ(host_line.find("gpu_driver"), std::string::npos) << host_line;
  EXPECT_EQ(host_line.find("openvino"), std::string::npos) << host_line;
}

}  // namespace
}  // namespace optic::report
