// The report's GPU scaling (src/report/scaling.h): rows with a devices list become one series per
// model/backend/precision/protocol with the best concurrency per GPU count and the ideal line
// from the smallest count; rows without devices, failed rows and a devices field that is not an
// array are left out; the Markdown table and the HTML chart carry the numbers.
#include <gtest/gtest.h>

#include <sstream>

#include "report/scaling.h"

namespace optic::report {
namespace {

Row Load(const std::string& model, int gpus, int concurrency, double throughput) {
  Row r;
  r.kind = "load";
  r.model = model;
  r.backend = "torch";
  r.device = "cuda";
  r.precision = "fp16";
  r.status = "ok";
  r.concurrency = concurrency;
  r.throughput_per_s = throughput;
  r.devices = nlohmann::json::array();
  for (int g = 0; g < gpus; ++g) r.devices.push_back(g == 0 ? "cuda" : "cuda:" + std::to_string(g));
  return r;
}

TEST(ReportScaling, SeriesBestConcurrencyAndIdeal) {
  ResultsSet set;
  set.rows = {Load("resnet50", 1, 32, 1000), Load("resnet50", 1, 64, 1200),
              Load("resnet50", 2, 64, 2000), Load("resnet50", 2, 128, 2300),
              Load("resnet50", 4, 128, 3600), Load("resnet50_jpeg_cpu", 1, 64, 800),
              Load("resnet50_jpeg_cpu", 2, 64, 900)};
  Row failed = Load("resnet50", 8, 64, 99999);
  failed.status = "failed";
  Row single = Load("resnet50", 1, 16, 5000);
  single.devices = nullptr;  // an ordinary one-device row
  Row damaged = Load("resnet50", 1, 8, 7000);
  damaged.devices = "cuda:0+cuda:1";
  set.rows.push_back(failed);
  set.rows.push_back(single);
  set.rows.push_back(damaged);
  const auto series = ScalingSeriesOf(set);
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].label, "resnet50 torch fp16 http");
  ASSERT_EQ(series[0].points.size(), 3u);
  EXPECT_EQ(series[0].points[0].throughput, 1200);
  EXPECT_EQ(series[0].points[0].concurrency, 64);
  EXPECT_EQ(series[0].points[1].throughput, 2300);
  EXPECT_EQ(series[0].points[1].ideal, 2400);
  EXPECT_EQ(series[0].points[2].gpus, 4);
  EXPECT_EQ(series[0].points[2].ideal, 4800);
  EXPECT_EQ(series[1].points[1].ideal, 1600);

  std::ostringstream md;
  WriteScalingMarkdown(series, md);
  EXPECT_NE(md.str().find("## GPU scaling"), std::string::npos);
  EXPECT_NE(md.str().find("| 4 | 3600 | 4800 | 0.75 | 128 |"), std::string::npos) << md.str();
  const std::string html = ScalingHtml(series);
  EXPECT_EQ(html.find("<svg", html.find("<svg") + 1) != std::string::npos, true);  // two charts
  EXPECT_NE(html.find("class=\"ideal\""), std::string::npos);
  EXPECT_NE(html.find("4 GPU(s): 3600/s, ideal 4800/s"), std::string::npos) << html;
}

TEST(ReportScaling, NothingWithoutDevices) {
  ResultsSet set;
  Row r = Load("m", 1, 1, 10);
  r.devices = nullptr;
  set.rows = {r};
  EXPECT_TRUE(ScalingSeriesOf(set).empty());
  std::ostringstream md;
  WriteScalingMarkdown({}, md);
  EXPECT_TRUE(md.str().empty());
  EXPECT_TRUE(ScalingHtml({}).empty());
}

}  // namespace
}  // namespace optic::report
