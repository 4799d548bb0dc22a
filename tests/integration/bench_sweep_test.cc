// optic bench end to end, on the null backend (no framework needed) plus the tiny zoo models
// where ONNX Runtime is compiled in: a crashing cell gives a failed row while the others finish,
// a hanging one a timeout row, a sweep killed with SIGKILL resumes without duplicates, and every
// row passes the schema checker.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "integration/bench_rows.h"
#include "integration/optic_child.h"
#include "bench/results.h"
#include "optic/registry.h"

namespace optic::bench {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

using optic::testing::RunOptic;
using optic::testing::SpawnOptic;
const std::string& kOptic = optic::testing::OpticBinary();

class BenchSweep : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kOptic)) GTEST_SKIP() << "needs the optic binary at " << kOptic;
    dir_ = ::testing::TempDir() + "/bench_sweep_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(BenchSweep, CrashingCellIsAFailedRowAndTheSweepContinues) {
  const std::string out = dir_ + "/r.jsonl";
  std::vector<std::string> args = {"bench", "--models", "null,tiny_cnn", "--backends", "null",
                                   "--batch", "2", "--precision", "fp32", "--scenario", "offline",
                                   "--duration-s", "0.3", "--timeout-s", "20", "--out", out,
                                   "--models-dir", OPTIC_TEST_MODELS,
                                   "--backend-option", "null:fail=crash"};
  const auto names = BackendNames();
  const bool ort = std::find(names.begin(), names.end(), "onnxruntime") != names.end();
  if (ort) args[4] = "null,onnxruntime";
  EXPECT_EQ(RunOptic(args), 1);  // a failed cell makes the exit code 1
  std::map<std::string, json> by_id;
  for (const json& r : Rows(out)) by_id[r["cell_id"]] = r;
  const json& crashed = by_id.at("null|null|cpu|fp32|b2|t" + std::to_string(std::thread::hardware_concurrency()) + "|offline");
  EXPECT_EQ(crashed["status"], "failed");
  EXPECT_NE(crashed["error"].get<std::string>().find("signal 6"), std::string::npos) << crashed["error"];
  EXPECT_NE(crashed["error"].get<std::string>().find("first_inference"), std::string::npos);
  EXPECT_EQ(by_id.size(), ort ? 4u : 2u);
  if (ort) {
    const std::string t = "|t" + std::to_string(std::thread::hardware_concurrency()) + "|offline";
    const json& good = by_id.at("tiny_cnn|onnxruntime|cpu|fp32|b2" + t);
    EXPECT_EQ(good["status"], "ok") << good["error"];
    EXPECT_GT(good["throughput_per_s"].get<double>(), 0);
    // The reference is the first real backend in registry order that runs tiny_cnn at fp32.
    ASSERT_TRUE(good["parity_reference"].is_string());
    EXPECT_NE(good["parity_reference"].get<std::string>().find("/fp32"), std::string::npos);
    EXPECT_LE(good["max_rel_err"].get<double>(), 1e-4);
    // Agreement over the whole check set (32 samples in batches of 2), judged for fp32.
    EXPECT_EQ(good["parity_samples"], 32);
    EXPECT_GT(good["cosine_similarity"].get<double>(), 0.9999);
    EXPECT_EQ(good["top1_agreement"], 1.0);
    EXPECT_EQ(good["top5_agreement"], 1.0);
    EXPECT_EQ(good["parity_pass"], true);
    EXPECT_TRUE(good["parity_failure"].is_null());
    EXPECT_EQ(by_id.at("null|onnxruntime|cpu|fp32|b2" + t)["status"], "unsupported");
  }
  EXPECT_EQ(RunOptic({"bench", "--validate", out}), 0);
}

TEST_F(BenchSweep, HangingCellIsATimeoutRow) {
  const std::string out = dir_ + "/r.jsonl";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RunOptic({"bench", "--models", "null", "--backends", "null", "--batch", "1",
                      "--precision", "fp32", "--scenario", "offline", "--duration-s", "0.3",
                      "--timeout-s", "2", "--out", out, "--backend-option", "null:fail=hang"}),
            1);
  // Reference cell and measured cell each killed after 2 s; nothing waits for a hang.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  const auto rows = Rows(out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["status"], "timeout");
  EXPECT_NE(rows[0]["error"].get<std::string>().find("timed out"), std::string::npos);
  EXPECT_TRUE(rows[0].contains("parity_error"));
}

TEST_F(BenchSweep, KilledSweepResumesWithoutDuplicates) {
  const std::string out = dir_ + "/r.jsonl";
  const std::vector<std::string> args = {"bench", "--models", "null", "--backends", "null",
                                         "--batch", "1,2,4,8,16", "--precision", "fp32",
                                         "--scenario", "offline", "--duration-s", "0.3",
                                         "--out", out, "--backend-option", "null:delay_us=300",
                                         "--backend-option", "null:shape=3x32x32"};
  const pid_t pid = SpawnOptic(args);
  // Kill the sweep (not a cell) with SIGKILL once it has written its first row.
  for (int i = 0; i < 600; ++i) {
    std::vector<json> rows;
    rows = JsonLines(out);
    if (!rows.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  const size_t before = Rows(out).size();
  ASSERT_GE(before, 1u);
  ASSERT_LT(before, 5u) << "the sweep finished before it could be killed; nothing was tested";
  std::vector<std::string> resume = args;
  resume.push_back("--resume");
  EXPECT_EQ(RunOptic(resume), 0);
  const auto rows = Rows(out);
  std::map<std::string, int> count;
  for (const json& r : rows) ++count[r["cell_id"]];
  EXPECT_EQ(count.size(), 5u);
  for (const auto& [id, n] : count) EXPECT_EQ(n, 1) << id;
  for (const json& r : rows) EXPECT_EQ(r["status"], "ok") << r["error"];
  // A second resume has nothing left to do and writes nothing.
  EXPECT_EQ(RunOptic(resume), 0);
  EXPECT_EQ(Rows(out).size(), 5u);
}

TEST_F(BenchSweep, ServerAndEnsembleRows) {
  const std::string out = dir_ + "/r.jsonl";
  EXPECT_EQ(RunOptic({"bench", "--models", "null", "--backends", "null", "--batch", "4",
                      "--precision", "fp32", "--scenario", "server", "--qps", "500",
                      "--duration-s", "0.3", "--ensemble", "null,null", "--out", out,
                      "--backend-option", "null:delay_us=200"}),
            0);
  const auto rows = Rows(out);
  ASSERT_EQ(rows.size(), 3u);  // one server row, two ensemble rows (sequential, concurrent)
  int ensembles = 0;
  for (const json& r : rows) {
    ASSERT_EQ(r["status"], "ok") << r["error"];
    if (r["kind"] == "ensemble") {
      ++ensembles;
      EXPECT_GT(r["ensemble"]["speedup"].get<double>(), 0);
      EXPECT_EQ(r["max_abs_err"].get<double>(), 0);  // concurrent == sequential predictions
    } else {
      EXPECT_DOUBLE_EQ(r["server"]["target_qps"].get<double>(), 500);
      EXPECT_GT(r["server"]["achieved_qps"].get<double>(), 100);
      EXPECT_TRUE(r["server"]["late_fraction"].is_number());
    }
  }
  EXPECT_EQ(ensembles, 2);
}

}  // namespace
}  // namespace optic::bench
