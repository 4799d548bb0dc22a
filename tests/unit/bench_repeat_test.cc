// optic bench --repeat: the config key, the interleaved schedule of child processes, and resume
// counting rows per (cell_id, repeat) (src/bench/sweep_plan.h).
#include <gtest/gtest.h>

#include "bench/config.h"
#include "bench/results.h"
#include "bench/sweep_plan.h"
#include "integration/bench_rows.h"

namespace optic::bench {
namespace {

using nlohmann::json;

std::vector<Planned> Plan(int cells, int unsupported_at = -1) {
  std::vector<Planned> plan;
  for (int i = 0; i < cells; ++i) {
    Planned p;
    p.cell.model = "m";
    p.cell.backend = "null";
    p.cell.batch_size = 1 << i;
    p.cell.threads = 2;
    if (i == unsupported_at) p.unsupported = "no such precision";
    plan.push_back(p);
  }
  return plan;
}

std::vector<std::pair<int, int>> Order(const std::vector<Job>& jobs) {
  std::vector<std::pair<int, int>> out;  // (batch, repeat)
  for (const Job& j : jobs) out.push_back({j.planned->cell.batch_size, j.repeat});
  return out;
}

TEST(RepeatConfig, KeyIsAPositiveInteger) {
  BenchConfig c;
  EXPECT_EQ(c.repeat, 1);
  ASSERT_TRUE(ConfigFromJson(json::parse(R"({"repeat": 3})"), &c).ok());
  EXPECT_EQ(c.repeat, 3);
  for (const char* bad : {R"({"repeat": 0})", R"({"repeat": -2})", R"({"repeat": 2.5})",
                          R"({"repeat": "3"})", R"({"repeat": 101})"}) {
    BenchConfig d;
    Status s = ConfigFromJson(json::parse(bad), &d);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("'repeat'"), std::string::npos) << s.ToString();
  }
}

TEST(ScheduleJobs, PassesAreInterleaved) {
  auto plan = Plan(3);
  int skipped = -1;
  const auto jobs = ScheduleJobs(plan, 3, {}, &skipped);
  EXPECT_EQ(skipped, 0);
  // Every cell once, then every cell again: drift over the sweep hits all cells alike.
  EXPECT_EQ(Order(jobs), (std::vector<std::pair<int, int>>{
                             {1, 1}, {2, 1}, {4, 1}, {1, 2}, {2, 2}, {4, 2}, {1, 3}, {2, 3}, {4, 3}}));
}

TEST(ScheduleJobs, OneRepeatIsTodaysSweep) {
  auto plan = Plan(2);
  int skipped = -1;
  EXPECT_EQ(Order(ScheduleJobs(plan, 1, {}, &skipped)),
            (std::vector<std::pair<int, int>>{{1, 1}, {2, 1}}));
}

TEST(ScheduleJobs, UnsupportedCellsAreWrittenOnce) {
  auto plan = Plan(2, /*unsupported_at=*/1);
  int skipped = -1;
  EXPECT_EQ(Order(ScheduleJobs(plan, 3, {}, &skipped)),
            (std::vector<std::pair<int, int>>{{1, 1}, {2, 1}, {1, 2}, {1, 3}}));
}

TEST(ScheduleJobs, ResumeRunsOnlyMissingRepeats) {
  auto plan = Plan(3);
  // A sweep killed in pass 2: all of pass 1 and the first cell of pass 2 were written; the
  // first cell's repeat-1 row predates repeats (no field) and still counts as repeat 1.
  std::vector<results::Row> rows;
  auto row = [](const std::string& cell_id, std::optional<int> repeat) {
    results::Row r;
    r.cell_id = cell_id;
    r.repeat = repeat;
    r.repeats = repeat ? std::optional<int>(3) : std::nullopt;
    return r;
  };
  rows.push_back(row(plan[0].cell.CellId(), std::nullopt));
  for (int i : {1, 2}) rows.push_back(row(plan[i].cell.CellId(), 1));
  rows.push_back(row(plan[0].cell.CellId(), 2));
  rows.push_back(row("", std::nullopt));  // no cell_id: ignored
  const DoneRepeats done = FindDoneRepeats(rows);
  EXPECT_EQ(done.size(), 4u);
  EXPECT_TRUE(done.count({plan[0].cell.CellId(), 1}));
  int skipped = -1;
  const auto jobs = ScheduleJobs(plan, 3, done, &skipped);
  EXPECT_EQ(Order(jobs), (std::vector<std::pair<int, int>>{{2, 2}, {4, 2}, {1, 3}, {2, 3}, {4, 3}}));
  EXPECT_EQ(skipped, 0);  // every cell still has a repeat to run
  // Everything written: nothing to run, every cell skipped.
  DoneRepeats all = done;
  for (const auto& p : plan) for (int r = 1; r <= 3; ++r) all.insert({p.cell.CellId(), r});
  EXPECT_TRUE(ScheduleJobs(plan, 3, all, &skipped).empty());
  EXPECT_EQ(skipped, 3);
  // A finished single-run sweep resumed with --repeat 3 adds repeats 2 and 3 only.
  DoneRepeats once;
  for (const auto& p : plan) once.insert({p.cell.CellId(), 1});
  EXPECT_EQ(ScheduleJobs(plan, 3, once, &skipped).size(), 6u);
}

TEST(ScheduleJobs, EnsembleNeedsBothRowsOfARepeat) {
  std::vector<Planned> plan(1);
  plan[0].cell.kind = CellKind::kEnsemble;
  plan[0].cell.model = "ensemble";
  plan[0].cell.members = {"a", "b"};
  plan[0].cell.backend = "null";
  const auto ids = RowIds(plan[0].cell);
  ASSERT_EQ(ids.size(), 2u);
  int skipped = -1;
  // Only the sequential row of repeat 1 was written: repeat 1 runs again.
  EXPECT_EQ(ScheduleJobs(plan, 2, {{ids[0], 1}}, &skipped).size(), 2u);
  EXPECT_EQ(ScheduleJobs(plan, 2, {{ids[0], 1}, {ids[1], 1}}, &skipped).size(), 1u);
}

TEST(RepeatRows, SchemaCheckerTypesTheNewFields) {
  CellSpec cell;
  cell.model = "m";
  cell.backend = "null";
  json row = results::ToJson(RowFor(cell, RunInfo{"run", "optic bench", json::object(), json::object()}));
  ASSERT_EQ(StrictError(row), "");
  row["repeat"] = 2;
  row["repeats"] = 3;
  row["host_other_cpu"] = 0.25;
  row["cpu_steal_pct"] = nullptr;
  row["contended"] = true;
  row["loadavg_1m"] = 1.5;
  EXPECT_EQ(StrictError(row), "");
  for (const auto& [k, v] : std::vector<std::pair<std::string, json>>{
           {"repeat", 0}, {"repeat", 4}, {"repeats", "3"}, {"host_other_cpu", "high"},
           {"contended", 1}, {"loadavg_1m", json::array()}}) {
    json bad = row;
    bad[k] = v;
    EXPECT_NE(StrictError(bad), "") << k << " = " << v.dump();
  }
}

}  // namespace
}  // namespace optic::bench
