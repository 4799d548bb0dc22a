// optic report's reduced-precision table carries each int8/fp16 row's agreement with the fp32
// reference (top-1, top-5, cosine, rel_l2) beside its speed-up, in Markdown and in the HTML data.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "report/html_data.h"
#include "report/report.h"

namespace optic::report {
namespace {

using nlohmann::json;

// The fixture's onnxruntime fp32 b1 row and an int8 row of the same cell made from its bf16 row.
std::string WriteRows() {
  std::ifstream in(std::string(OPTIC_SOURCE_DIR) + "/tests/fixtures/results_fixture.jsonl");
  json fp32, int8;
  for (std::string line; std::getline(in, line);) {
    const json r = json::parse(line);
    if (r["cell_id"] == "resnet50|onnxruntime|cpu|fp32|b1|t8|offline") fp32 = r;
    if (r["cell_id"] == "resnet50|onnxruntime|cpu|bf16|b1|t8|offline") int8 = r;
  }
  EXPECT_FALSE(fp32.is_null() || int8.is_null());
  int8["precision"] = "int8";
  int8["cell_id"] = "resnet50|onnxruntime|cpu|int8|b1|t8|offline";
  int8["top1_agreement"] = 0.813;
  int8["top5_agreement"] = 0.937;
  int8["cosine_similarity"] = 0.98761;
  int8["rel_l2_err"] = 0.154;
  const std::string path = ::testing::TempDir() + "/report_agreement_" + std::to_string(getpid()) + ".jsonl";
  std::ofstream(path) << fp32.dump() << "\n" << int8.dump() << "\n";
  return path;
}

TEST(ReportPrecisionAgreement, MarkdownAndHtmlShowTheAgreementOfInt8Rows) {
  const std::string path = WriteRows();
  ReportOptions o;
  o.inputs = {path};
  Report rep;
  ASSERT_TRUE(BuildReport(o, &rep).ok());
  ASSERT_EQ(rep.speedups.size(), 1u);
  const auto& s = rep.speedups[0];
  EXPECT_EQ(s.precision, "int8");
  EXPECT_EQ(s.top1_agreement, 0.813);
  EXPECT_EQ(s.cosine_similarity, 0.98761);

  std::ostringstream md;
  ASSERT_TRUE(MakeMarkdownReporter()->Write(rep, md).ok());
  const std::string text = md.str();
  EXPECT_NE(text.find("| speed-up | top-1 | top-5 | cosine | rel_l2 |"), std::string::npos) << text;
  std::string row;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("| int8 | 1 |") != std::string::npos) row = line;
  }
  EXPECT_NE(row.find("| 0.813 | 0.937 | 0.9876 | 0.15 |"), std::string::npos) << row;

  const json data = ReportJson(rep);
  EXPECT_EQ(data["speedups"][0]["top1_agreement"], 0.813);
  EXPECT_EQ(data["speedups"][0]["rel_l2_err"], 0.154);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace optic::report
