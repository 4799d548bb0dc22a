// Repeats of a cell (optic bench --repeat) in the one aggregation both the sweep's summary and
// optic report use (src/results/repeats.h): medians, spread, what counts as one cell, and files
// without repeats reading exactly as before.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/progress.h"
#include "results/repeats.h"
#include "report/report.h"

namespace optic::report {
namespace {

using nlohmann::json;

Row Rep(int repeat, int repeats, double thr, double p50, double p99, const std::string& run = "run-a",
        const std::string& file = "r.jsonl") {
  Row r;
  r.file = file;
  r.run_id = run;
  r.cell_id = "resnet50|onnxruntime|cpu|fp32|b8|t2|offline";
  r.model = "resnet50";
  r.backend = "onnxruntime";
  r.device = "cpu";
  r.precision = "fp32";
  r.batch_size = 8;
  r.threads = 2;
  r.scenario = "offline";
  r.status = "ok";
  r.throughput_per_s = thr;
  r.latency_ms.p50 = p50;
  r.latency_ms.p99 = p99;
  r.samples = 100;
  r.stable = true;
  r.repeat = repeat;
  r.repeats = repeats;
  return r;
}

TEST(AggregateRepeats, MediansAndSpreadOfThreeRepeats) {
  // Percentiles are medians each on their own: p50 from repeat 3, p99 from repeat 1.
  const std::vector<Row> rows = {Rep(1, 3, 100, 80, 95), Rep(2, 3, 120, 66, 99), Rep(3, 3, 90, 70, 90)};
  const auto cells = AggregateRepeats(rows);
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].members, (std::vector<size_t>{0, 1, 2}));
  EXPECT_DOUBLE_EQ(*cells[0].throughput_per_s, 100);
  EXPECT_DOUBLE_EQ(*cells[0].latency_ms.p50, 70);
  EXPECT_DOUBLE_EQ(*cells[0].latency_ms.p99, 95);
  EXPECT_FALSE(cells[0].latency_ms.p90.has_value());  // no repeat had it
  EXPECT_DOUBLE_EQ(*cells[0].spread, 120.0 / 90.0);
  EXPECT_FALSE(cells[0].within_rule());
}

TEST(AggregateRepeats, EvenCountTakesTheUpperMiddleAndTightRepeatsAreWithinTheRule) {
  const std::vector<Row> rows = {Rep(1, 4, 100, 10, 20), Rep(2, 4, 104, 11, 21), Rep(3, 4, 102, 12, 22),
                                 Rep(4, 4, 108, 13, 23)};
  const auto cells = AggregateRepeats(rows);
  ASSERT_EQ(cells.size(), 1u);
  // measure::Median: a measured repeat's value, the upper of the two middle ones.
  EXPECT_DOUBLE_EQ(*cells[0].throughput_per_s, 104);
  EXPECT_DOUBLE_EQ(*cells[0].latency_ms.p50, 12);
  EXPECT_DOUBLE_EQ(*cells[0].spread, 1.08);
  EXPECT_TRUE(cells[0].within_rule());
}

TEST(AggregateRepeats, OneCellPerFileAcrossRunIdsOfAResume) {
  // Repeats 1-2 from the killed sweep, 3 from the resumed one (another run_id), same file: one
  // cell. The same cell in another file (a second run to compare with) is another cell.
  std::vector<Row> rows = {Rep(1, 3, 100, 10, 20, "run-a"), Rep(2, 3, 101, 10, 20, "run-a"),
                           Rep(3, 3, 102, 10, 20, "run-b"), Rep(1, 3, 200, 5, 9, "run-c", "other.jsonl"),
                           Rep(2, 3, 210, 5, 9, "run-c", "other.jsonl")};
  // Another configuration of the same cell_id (backend options) is another cell too.
  Row graph = Rep(1, 3, 300, 3, 4);
  graph.settings = {{"backend_options", {{"cuda_graph", "true"}}}};
  rows.push_back(graph);
  const auto cells = AggregateRepeats(rows);
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[0].members, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(cells[1].members, (std::vector<size_t>{3, 4}));
  EXPECT_DOUBLE_EQ(*cells[1].throughput_per_s, 210);
  EXPECT_EQ(cells[2].members, (std::vector<size_t>{5}));
  EXPECT_FALSE(cells[2].spread.has_value());
}

TEST(AggregateRepeats, LaterRowOfARepeatWinsAndStaleRepeatsAreDropped) {
  // A 5-repeat sweep, then a 3-repeat re-run into the same file: repeats 1-3 of the re-run;
  // 4 and 5 of the old sweep do not belong to it.
  const std::vector<Row> rows = {Rep(1, 5, 50, 1, 1), Rep(2, 5, 50, 1, 1), Rep(3, 5, 50, 1, 1),
                                 Rep(4, 5, 50, 1, 1), Rep(5, 5, 50, 1, 1), Rep(1, 3, 100, 1, 1),
                                 Rep(2, 3, 101, 1, 1), Rep(3, 3, 102, 1, 1)};
  const auto cells = AggregateRepeats(rows);
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].members, (std::vector<size_t>{5, 6, 7}));
  EXPECT_DOUBLE_EQ(*cells[0].throughput_per_s, 101);
}

TEST(CollapseRepeats, OneRowOfMediansWithSpreadAndFlags) {
  std::vector<Row> rows = {Rep(1, 3, 100, 80, 95), Rep(2, 3, 120, 66, 99), Rep(3, 3, 90, 70, 90)};
  rows[1].stable = false;
  rows[1].p99_valid = false;
  rows[2].contended = true;
  rows[2].host_other_cpu = 0.4;
  rows[0].contended = false;
  rows[0].host_other_cpu = 0.02;
  Row failed = Rep(1, 3, 0, 0, 0);
  failed.cell_id = "vgg19|onnxruntime|cpu|fp32|b8|t2|offline";
  failed.model = "vgg19";
  failed.status = "timeout";
  failed.throughput_per_s.reset();
  rows.insert(rows.begin(), failed);
  const auto out = CollapseRepeats(rows);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].status, "timeout");  // not ok: passes through
  const Row& r = out[1];
  EXPECT_EQ(r.repeats_aggregated, 3);
  EXPECT_DOUBLE_EQ(*r.throughput_per_s, 100);
  EXPECT_DOUBLE_EQ(*r.latency_ms.p50, 70);
  EXPECT_DOUBLE_EQ(*r.repeat_spread, 120.0 / 90.0);
  EXPECT_EQ(*r.samples, 300);
  EXPECT_TRUE(r.unstable());  // one unstable repeat makes the cell unstable
  EXPECT_FALSE(r.p99_valid);
  EXPECT_TRUE(r.p90_valid);
  EXPECT_EQ(r.contended, true);
  EXPECT_DOUBLE_EQ(*r.host_other_cpu, 0.4);
  EXPECT_EQ(r.repeat, 1);
  const auto over = SpreadViolations(out);
  ASSERT_EQ(over.size(), 1u);
  EXPECT_EQ(over[0], "resnet50 onnxruntime cpu fp32 b8 offline: 1.33 over 3 repeats");
}

TEST(CollapseRepeats, RowsWithoutRepeatsAreUntouched) {
  // Two runs of one cell in one file (no repeat field: both repeat 1), and another cell: all
  // pass through as they were, duplicates included, in order.
  std::vector<Row> rows = {Rep(1, 1, 100, 10, 20, "run-a"), Rep(1, 1, 90, 11, 21, "run-b")};
  Row other = Rep(1, 1, 50, 20, 40);
  other.cell_id = "vgg19|onnxruntime|cpu|fp32|b8|t2|offline";
  other.model = "vgg19";
  rows.push_back(other);
  const auto out = CollapseRepeats(rows);
  ASSERT_EQ(out.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(out[i].run_id, rows[i].run_id);
    EXPECT_EQ(out[i].throughput_per_s, rows[i].throughput_per_s);
    EXPECT_EQ(out[i].latency_ms.p50, rows[i].latency_ms.p50);
    EXPECT_EQ(out[i].repeats_aggregated, 1);
    EXPECT_FALSE(out[i].repeat_spread.has_value());
  }
  EXPECT_TRUE(SpreadViolations(out).empty());
}

// A results file as optic bench --repeat 3 writes it: the reader keeps every repeat (they are
// not re-runs of each other), and the report shows one row of medians plus the warning.
TEST(ReportWithRepeats, ReaderKeepsRepeatsAndReportCollapsesThem) {
  const auto path = std::filesystem::temp_directory_path() / "optic_report_repeats.jsonl";
  {
    std::ofstream f(path);
    int repeat = 0;
    for (double thr : {100.0, 130.0, 104.0}) {
      ++repeat;
      f << json{{"schema", 1}, {"kind", "bench"}, {"run_id", "run-a"},
                {"cell_id", "m|onnxruntime|cpu|fp32|b1|t2|offline"}, {"model", "m"},
                {"backend", "onnxruntime"}, {"device", "cpu"}, {"precision", "fp32"},
                {"batch_size", 1}, {"threads", 2}, {"scenario", "offline"}, {"status", "ok"},
                {"error", nullptr}, {"throughput_per_s", thr}, {"latency_ms", {{"p50", 1000 / thr}}},
                {"samples", 50}, {"stable", true}, {"repeat", repeat}, {"repeats", 3},
                {"host_other_cpu", 0.01 * repeat}, {"cpu_steal_pct", 0.0}, {"contended", false},
                {"loadavg_1m", 0.5}}
               .dump()
        << "\n";
    }
  }
  ResultsSet set;
  ASSERT_TRUE(LoadResultsFile(path.string(), {}, &set).ok());
  EXPECT_EQ(set.rows.size(), 3u);
  EXPECT_TRUE(set.warnings.empty());  // nothing "replaced by a later row"
  EXPECT_EQ(set.rows[2].repeat, 3);
  EXPECT_DOUBLE_EQ(*set.rows[2].host_other_cpu, 0.03);
  EXPECT_DOUBLE_EQ(*set.rows[2].loadavg_1m, 0.5);

  ReportOptions o;
  o.inputs = {path.string()};
  Report rep;
  ASSERT_TRUE(BuildReport(o, &rep).ok());
  ASSERT_EQ(rep.results.rows.size(), 1u);
  EXPECT_DOUBLE_EQ(*rep.results.rows[0].throughput_per_s, 104);
  ASSERT_EQ(rep.winners.size(), 1u);
  EXPECT_DOUBLE_EQ(rep.winners[0].best_throughput->value, 104);  // the median, not the best repeat
  ASSERT_EQ(rep.results.warnings.size(), 1u);
  EXPECT_NE(rep.results.warnings[0].message.find("m onnxruntime cpu fp32 b1 offline: 1.30 over 3 repeats"),
            std::string::npos)
      << rep.results.warnings[0].message;
  std::ostringstream md, term;
  ASSERT_TRUE(MakeMarkdownReporter()->Write(rep, md).ok());
  EXPECT_NE(md.str().find("## Repeats"), std::string::npos);
  EXPECT_NE(md.str().find("| m onnxruntime cpu fp32 b1 | offline | 3 | 104 | 9.62 | 1.3 | **no** | no |"),
            std::string::npos)
      << md.str();
  ASSERT_TRUE(MakeTerminalReporter()->Write(rep, term).ok());
  EXPECT_NE(term.str().find("repeats/sprd"), std::string::npos);
  EXPECT_NE(term.str().find("repeats-disagree"), std::string::npos);
  std::filesystem::remove(path);
}

// The sweep's closing summary ranks cells by the same medians.
TEST(BenchSummary, UsesMediansOfRepeats) {
  auto row = [](const std::string& backend, int repeat, double thr) {
    return json{{"schema", 1}, {"kind", "bench"}, {"run_id", "run-a"},
                {"cell_id", "m|" + backend + "|cpu|fp32|b1|t2|offline"}, {"model", "m"},
                {"backend", backend}, {"device", "cpu"}, {"precision", "fp32"}, {"batch_size", 1},
                {"threads", 2}, {"scenario", "offline"}, {"status", "ok"}, {"error", nullptr},
                {"throughput_per_s", thr}, {"latency_ms", {{"p50", 1.0}}}, {"samples", 50},
                {"stable", true}, {"repeat", repeat}, {"repeats", 3}};
  };
  // openvino has the single fastest repeat (one lucky run); onnxruntime the higher median.
  std::vector<results::Row> rows;
  for (const json& j : {row("openvino", 1, 150), row("onnxruntime", 1, 110), row("openvino", 2, 90),
                        row("onnxruntime", 2, 112), row("openvino", 3, 95), row("onnxruntime", 3, 108)}) {
    rows.emplace_back();
    ASSERT_TRUE(results::FromJson(j, results::ReadMode::kLenient, &rows.back()).ok());
  }
  char* buf = nullptr;
  size_t size = 0;
  FILE* f = open_memstream(&buf, &size);
  ASSERT_NE(f, nullptr);
  bench::PrintSummary(rows, f);
  std::fclose(f);
  const std::string text(buf, size);
  std::free(buf);
  EXPECT_NE(text.find("onnxruntime fp32 b1 t2 x3 spread 1.04"), std::string::npos) << text;
  EXPECT_NE(text.find("110.0"), std::string::npos) << text;
  EXPECT_EQ(text.find("150.0"), std::string::npos) << text;
  EXPECT_NE(text.find("rows: ok 6"), std::string::npos) << text;
}

}  // namespace
}  // namespace optic::report
