// The report's pipeline figure (src/report/pipeline_figure.h) on the committed CPU run
// (results/cpu/pipeline-20261207/rows.jsonl, read as optic report reads it): one series per
// transport and worker count, a point per objects count with throughput and the zero-load stage
// split; failed and non-pipeline rows are left out; a re-run replaces the earlier point; the
// Markdown table and the HTML section carry the numbers, and nothing is written without rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "report/pipeline_figure.h"

namespace optic::report {
namespace {

ResultsSet CommittedRun() {
  ResultsSet set;
  LoadOptions options;
  const Status s = LoadResultsFile(std::string(OPTIC_SOURCE_DIR) + "/results/cpu/pipeline-20261207/rows.jsonl",
                                   options, &set);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return set;
}

const PipelineSeries* Find(const std::vector<PipelineSeries>& all, const std::string& label) {
  for (const auto& s : all) {
    if (s.label == label) return &s;
  }
  return nullptr;
}

TEST(ReportPipeline, SeriesPerTransportAndWorkersFromTheCommittedRun) {
  const ResultsSet set = CommittedRun();
  const auto series = PipelineSeriesOf(set);
  ASSERT_EQ(series.size(), 5u);  // fused; redis and kafka with 1 and 2 workers
  for (const char* label : {"fused", "redis, 1 worker", "redis, 2 workers", "kafka, 1 worker",
                            "kafka, 2 workers"}) {
    const PipelineSeries* s = Find(series, label);
    ASSERT_NE(s, nullptr) << label;
    ASSERT_EQ(s->points.size(), 4u) << label;
    EXPECT_EQ(s->points.front().objects, 1);
    EXPECT_EQ(s->points.back().objects, 25);
    for (const PipelinePoint& p : s->points) {
      EXPECT_GT(p.frames_per_s, 0) << label;
      EXPECT_NEAR(p.objects_per_s / p.frames_per_s, p.objects, 0.05 * p.objects) << label;
      EXPECT_GT(p.stage1_ms, 0) << label;
      EXPECT_GT(p.stage2_ms, 0) << label;
    }
  }
  // Kafka's broker time dominates its frames' latency in that run; fused has a near-zero one.
  const PipelinePoint k = Find(series, "kafka, 1 worker")->points.back();
  EXPECT_GT(k.broker_ms, k.stage1_ms + k.stage2_ms);
  EXPECT_LT(Find(series, "fused")->points.back().broker_ms, k.broker_ms / 10);
}

TEST(ReportPipeline, FailedAndOtherRowsAreLeftOutAndAReRunReplaces) {
  ResultsSet set = CommittedRun();
  const size_t before = PipelineSeriesOf(set).size();
  Row failed = set.rows.front();
  failed.status = "failed";
  failed.throughput_per_s = 1e9;
  Row bench = set.rows.front();
  bench.kind = "bench";
  Row rerun = set.rows.front();  // fused at 1 object
  rerun.throughput_per_s = 12345;
  set.rows.push_back(failed);
  set.rows.push_back(bench);
  set.rows.push_back(rerun);
  const auto series = PipelineSeriesOf(set);
  ASSERT_EQ(series.size(), before);
  EXPECT_DOUBLE_EQ(Find(series, "fused")->points.front().frames_per_s, 12345);
}

TEST(ReportPipeline, MarkdownAndHtmlCarryTheNumbers) {
  const auto series = PipelineSeriesOf(CommittedRun());
  std::ostringstream md;
  WritePipelineMarkdown(series, md);
  EXPECT_NE(md.str().find("## Pipelines"), std::string::npos);
  EXPECT_NE(md.str().find("| kafka, 2 workers | 25 |"), std::string::npos) << md.str();
  const std::string html = PipelineHtml(series);
  EXPECT_NE(html.find("<section id=\"pipelines\">"), std::string::npos);
  EXPECT_EQ(std::count(html.begin(), html.end(), '\n') > 20, true);
  size_t bars = 0;
  for (size_t at = html.find("class=\"stage\""); at != std::string::npos; at = html.find("class=\"stage\"", at + 1)) ++bars;
  EXPECT_EQ(bars, 5u * 4u * 4u);  // series x objects counts x stages
  size_t lines = 0;
  for (size_t at = html.find("class=\"series\""); at != std::string::npos; at = html.find("class=\"series\"", at + 1)) ++lines;
  EXPECT_EQ(lines, 5u);

  std::ostringstream none;
  WritePipelineMarkdown({}, none);
  EXPECT_TRUE(none.str().empty());
  EXPECT_TRUE(PipelineHtml({}).empty());
}

}  // namespace
}  // namespace optic::report
