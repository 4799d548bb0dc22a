// optic bench --repeat end to end on the null backend: rows carry repeat/repeats and the
// contention fields, passes are interleaved, and a repeated sweep killed with SIGKILL resumes at
// the missing repeats without duplicates.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "bench/results.h"
#include "integration/bench_rows.h"
#include "integration/optic_child.h"

namespace optic::bench {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using optic::testing::RunOptic;
using optic::testing::SpawnOptic;

class BenchRepeat : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(optic::testing::OpticBinary())) GTEST_SKIP() << "needs the optic binary";
    dir_ = ::testing::TempDir() + "/bench_repeat_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

std::vector<std::string> Args(const std::string& out, const std::string& repeat) {
  return {"bench", "--models", "null", "--backends", "null", "--batch", "1,2", "--precision",
          "fp32", "--scenario", "offline", "--duration-s", "0.3", "--repeat", repeat, "--out", out,
          "--backend-option", "null:delay_us=300", "--backend-option", "null:shape=3x32x32"};
}

TEST_F(BenchRepeat, RowsAreInterleavedAndCarryRepeatAndContention) {
  const std::string out = dir_ + "/r.jsonl";
  ASSERT_EQ(RunOptic(Args(out, "2")), 0);
  const auto rows = Rows(out);
  ASSERT_EQ(rows.size(), 4u);
  // Pass 1 (b1, b2), then pass 2 (b1, b2).
  const std::vector<std::pair<int, int>> want = {{1, 1}, {2, 1}, {1, 2}, {2, 2}};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["status"], "ok") << rows[i]["error"];
    EXPECT_EQ(rows[i]["batch_size"], want[i].first);
    EXPECT_EQ(rows[i]["repeat"], want[i].second);
    EXPECT_EQ(rows[i]["repeats"], 2);
    if (fs::exists("/proc/stat")) {
      ASSERT_TRUE(rows[i]["host_other_cpu"].is_number()) << rows[i].dump();
      EXPECT_GE(rows[i]["host_other_cpu"].get<double>(), 0.0);
      EXPECT_TRUE(rows[i]["cpu_steal_pct"].is_number());
      EXPECT_EQ(rows[i]["contended"], rows[i]["host_other_cpu"].get<double>() > 0.1);
      EXPECT_TRUE(rows[i]["loadavg_1m"].is_number());
    }
  }
  EXPECT_EQ(rows[0]["cell_id"], rows[2]["cell_id"]);  // the cell's identity, not the repeat's
  EXPECT_EQ(RunOptic({"bench", "--validate", out}), 0);
  EXPECT_EQ(RunOptic({"bench", "--models", "null", "--backends", "null", "--repeat", "0",
                      "--out", out}),
            2);
}

TEST_F(BenchRepeat, KilledRepeatedSweepResumesAtTheMissingRepeats) {
  const std::string out = dir_ + "/r.jsonl";
  const auto args = Args(out, "3");
  const pid_t pid = SpawnOptic(args);
  for (int i = 0; i < 600; ++i) {  // kill the sweep once it has written its second row
    std::vector<json> rows;
    rows = JsonLines(out);
    if (rows.size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  const size_t before = Rows(out).size();
  ASSERT_GE(before, 2u);
  ASSERT_LT(before, 6u) << "the sweep finished before it could be killed; nothing was tested";
  auto resume = args;
  resume.push_back("--resume");
  EXPECT_EQ(RunOptic(resume), 0);
  const auto rows = Rows(out);
  std::map<std::pair<std::string, int>, int> count;
  for (const json& r : rows) ++count[{r["cell_id"], r["repeat"]}];
  EXPECT_EQ(count.size(), 6u);  // 2 cells x 3 repeats
  for (const auto& [key, n] : count) EXPECT_EQ(n, 1) << key.first << " #" << key.second;
  for (const json& r : rows) EXPECT_EQ(r["status"], "ok") << r["error"];
  EXPECT_NE(rows[before]["run_id"], rows[0]["run_id"]);  // the resumed rows are another run
  // Nothing left: a second resume writes nothing.
  EXPECT_EQ(RunOptic(resume), 0);
  EXPECT_EQ(Rows(out).size(), 6u);
}

}  // namespace
}  // namespace optic::bench
