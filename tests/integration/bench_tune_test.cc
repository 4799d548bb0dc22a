// The settings search (bench/tune.h) end to end on the null backend, in this process with the
// optic binary running the cells: a budget smaller than one candidate still runs and keeps the
// defaults and skips the rest, a large budget runs every knob once beside one default, and the
// search space follows the device. A bad budget or objective is an error naming the flag.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "bench/tune.h"
#include "integration/bench_rows.h"
#include "integration/optic_child.h"
#include "optic/registry.h"

namespace optic::bench {
namespace {

namespace fs = std::filesystem;

class BenchTune : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(optic::testing::OpticBinary())) GTEST_SKIP() << "needs the optic binary";
    dir_ = ::testing::TempDir() + "/bench_tune_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    opt_.self_exe = optic::testing::OpticBinary();
    opt_.command = "bench_tune_test";
    BenchConfig& c = opt_.config;
    c.models = {"null"};
    c.backends = {"null"};
    c.batches = {1};
    c.precisions = {Precision::kFP32};
    c.scenarios = {Scenario::kOffline};
    c.settings.min_duration_s = 0.2;
    c.settings.warmup_ms = 20;
    c.out = dir_ + "/tune.jsonl";
  }
  void TearDown() override {
    fs::remove_all(dir_);
    if (devnull_) std::fclose(devnull_);
  }

  static int Cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

  std::string dir_;
  SweepOptions opt_;
  FILE* devnull_ = std::fopen("/dev/null", "w");
};

TEST_F(BenchTune, BudgetShorterThanOneCandidateKeepsOnlyTheDefaults) {
  if (Cores() < 2) GTEST_SKIP() << "one core: the null backend has no knob to skip";
  opt_.config.settings.min_duration_s = 1.0;  // every candidate takes longer than the budget
  Progress progress(devnull_, false);
  TuneResult r;
  Status s = RunTune(opt_, {0.5, "throughput"}, &progress, &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_GE(r.candidates.size(), 2u);
  EXPECT_EQ(r.candidates[0].role, "default");
  EXPECT_TRUE(r.candidates[0].run);
  for (size_t i = 1; i < r.candidates.size(); ++i) {
    EXPECT_FALSE(r.candidates[i].run) << r.candidates[i].role;
    EXPECT_EQ(r.candidates[i].skipped, "budget");
  }
  const auto rows = Rows(opt_.config.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["status"], "ok");
  EXPECT_EQ(rows[0]["threads"], Cores());
  EXPECT_TRUE(rows[0]["settings"]["backend_options"].empty());
}

TEST_F(BenchTune, LargeBudgetRunsEveryKnobBesideOneDefault) {
  Progress progress(devnull_, false);
  TuneResult r;
  Status s = RunTune(opt_, {600, "latency"}, &progress, &r);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const auto knobs = TuneSpace("null", Device{}, Cores());
  size_t values = 0;
  for (const auto& k : knobs) values += k.values.size();
  int ran = 0;
  for (const auto& c : r.candidates) ran += c.run ? 1 : 0;
  EXPECT_GE(ran, static_cast<int>(1 + values));  // default + each value (+ a combination)
  const auto rows = Rows(opt_.config.out);
  int defaults = 0;
  std::set<int> threads;
  for (const auto& row : rows) {
    EXPECT_EQ(row["status"], "ok");
    threads.insert(row["threads"].get<int>());
    if (row["threads"] == Cores() && row["settings"]["backend_options"].empty()) ++defaults;
  }
  EXPECT_EQ(defaults, 1);
  if (Cores() >= 2) EXPECT_TRUE(threads.count(1)) << "the threads knob ran at 1 thread";
  EXPECT_GT(r.candidates[0].score, 0);
}

TEST_F(BenchTune, BadBudgetOrObjectiveIsAnError) {
  Progress progress(devnull_, false);
  TuneResult r;
  Status s = RunTune(opt_, {0, "throughput"}, &progress, &r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--tune-budget-s"), std::string::npos) << s.message();
  s = RunTune(opt_, {10, "speed"}, &progress, &r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--tune-objective"), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(opt_.config.out)) << "nothing ran";
  EXPECT_EQ(optic::testing::RunOptic({"bench", "--models", "null", "--backends", "null",
                                      "--tune-budget-s", "-3", "--out", opt_.config.out}),
            2);
}

TEST(TuneSpace, KnobsFollowTheDevice) {
  const auto names = BackendNames();
  if (std::find(names.begin(), names.end(), "onnxruntime") == names.end()) {
    GTEST_SKIP() << "onnxruntime backend not built";
  }
  auto keys = [](const std::vector<TuneKnob>& knobs) {
    std::set<std::string> k;
    for (const auto& knob : knobs) k.insert(knob.key);
    return k;
  };
  const auto cpu = keys(TuneSpace("onnxruntime", Device{}, 8));
  EXPECT_TRUE(cpu.count("graph_optimization"));
  EXPECT_TRUE(cpu.count("threads"));
  EXPECT_FALSE(cpu.count("cuda_graph"));
  const auto cuda = keys(TuneSpace("onnxruntime", Device{DeviceType::kCUDA, 0}, 8));
  EXPECT_TRUE(cuda.count("cuda_graph"));
  EXPECT_FALSE(cuda.count("threads"));
  EXPECT_TRUE(TuneSpace("no_such_backend", Device{}, 8).empty());
}

}  // namespace
}  // namespace optic::bench
