// Before/after comparison of optic report (src/report/compare.cc).
#include <gtest/gtest.h>

#include "report/analysis.h"

namespace optic::report {
namespace {

Row Cell(const std::string& id, double thr, double p50, double p99, const std::string& status = "ok") {
  Row r;
  r.cell_id = id;
  r.model = "resnet50";
  r.backend = "onnxruntime";
  r.device = "cpu";
  r.precision = "fp32";
  r.batch_size = 8;
  r.status = status;
  if (status == "ok") {
    r.throughput_per_s = thr;
    r.latency_ms.p50 = p50;
    r.latency_ms.p99 = p99;
  }
  return r;
}

const ComparisonRow& Find(const Comparison& c, const std::string& key) {
  for (const auto& r : c.rows) {
    if (r.key == key) return r;
  }
  throw std::runtime_error("no row " + key);
}

TEST(Compare, RatiosAreNewOverBase) {
  std::vector<Row> before = {Cell("a", 100, 10, 20)}, after = {Cell("a", 80, 12.5, 30)};
  Comparison c = Compare(before, after, 0.05);
  ASSERT_EQ(c.rows.size(), 1u);
  const auto& r = c.rows[0];
  EXPECT_DOUBLE_EQ(*r.throughput_ratio, 0.8);
  EXPECT_DOUBLE_EQ(*r.p50_ratio, 1.25);
  EXPECT_DOUBLE_EQ(*r.p99_ratio, 1.5);
  EXPECT_TRUE(r.regression);
  EXPECT_FALSE(r.improvement);
  EXPECT_NE(r.note.find("throughput -20.0%"), std::string::npos) << r.note;
  EXPECT_EQ(c.regressions, 1);
}

TEST(Compare, ThresholdSeparatesNoiseFromChange) {
  std::vector<Row> before = {Cell("noise", 100, 10, 20), Cell("faster", 100, 10, 20)};
  std::vector<Row> after = {Cell("noise", 97, 10.3, 20.5), Cell("faster", 130, 7.7, 15)};
  Comparison c = Compare(before, after, 0.05);
  EXPECT_FALSE(Find(c, "noise").regression);
  EXPECT_FALSE(Find(c, "noise").improvement);
  EXPECT_TRUE(Find(c, "faster").improvement);
  EXPECT_EQ(c.regressions, 0);
  EXPECT_EQ(c.improvements, 1);
  // A tighter threshold makes the 3% drop count.
  EXPECT_TRUE(Find(Compare(before, after, 0.02), "noise").regression);
}

TEST(Compare, StatusChangesAndUnmatchedRows) {
  std::vector<Row> before = {Cell("broke", 100, 10, 20), Cell("fixed", 0, 0, 0, "failed"),
                             Cell("gone", 1, 1, 1)};
  std::vector<Row> after = {Cell("broke", 0, 0, 0, "timeout"), Cell("fixed", 50, 20, 40),
                            Cell("new", 1, 1, 1)};
  Comparison c = Compare(before, after, 0.05);
  EXPECT_TRUE(Find(c, "broke").regression);
  EXPECT_EQ(Find(c, "broke").note, "status ok -> timeout");
  EXPECT_TRUE(Find(c, "fixed").improvement);
  EXPECT_EQ(Find(c, "gone").after, nullptr);
  EXPECT_EQ(Find(c, "gone").note, "only in base");
  EXPECT_EQ(Find(c, "new").before, nullptr);
  EXPECT_FALSE(Find(c, "new").throughput_ratio.has_value());
}

TEST(Compare, InvalidP99DoesNotDecide) {
  std::vector<Row> before = {Cell("a", 100, 10, 20)}, after = {Cell("a", 100, 10, 60)};
  after[0].p99_valid = false;  // too few samples for a p99
  Comparison c = Compare(before, after, 0.05);
  EXPECT_FALSE(c.rows[0].p99_ratio.has_value());
  EXPECT_FALSE(c.rows[0].regression);
}

TEST(Compare, MatchesByFieldsWithoutCellId) {
  Row b = Cell("", 100, 10, 20), a = Cell("", 110, 9, 18);
  Row other = Cell("", 5, 5, 5);
  other.precision = "bf16";
  Comparison c = Compare({b, other}, {a}, 0.05);
  ASSERT_EQ(c.rows.size(), 2u);
  int matched = 0;
  for (const auto& r : c.rows) matched += r.before && r.after;
  EXPECT_EQ(matched, 1);
}

}  // namespace
}  // namespace optic::report
