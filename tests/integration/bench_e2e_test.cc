// optic bench --scenario e2e on tiny_cnn (32x32 input) with ONNX Runtime: small synthetic JPEGs
// in, outputs out. The row is kind e2e with its image class, its stages (decode, preprocess,
// h2d, infer, d2h) add up to the measured mean latency, the inference-only throughput of the
// same cell is there, and --preprocess gpu without CUDA is an unsupported row with the reason.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "integration/optic_child.h"
#include "bench/e2e_images.h"
#include "bench/results.h"
#include "integration/bench_rows.h"
#include "optic/preprocess.h"
#include "optic/registry.h"

namespace optic::bench {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

using optic::testing::RunOptic;
const std::string& kOptic = optic::testing::OpticBinary();

bool HaveOnnxRuntime() {
  const auto names = BackendNames();
  return std::find(names.begin(), names.end(), "onnxruntime") != names.end();
}

TEST(BenchE2EImages, ClassesAreDeterministicAndNearTheSeedSizes) {
  ImageClassSpec small;
  ASSERT_TRUE(ParseImageClass("small", &small).ok());
  std::vector<uint8_t> a, b, c;
  ASSERT_TRUE(MakeSyntheticJpeg(small, 7, 0, &a).ok());
  ASSERT_TRUE(MakeSyntheticJpeg(small, 7, 0, &b).ok());
  ASSERT_TRUE(MakeSyntheticJpeg(small, 7, 1, &c).ok());
  EXPECT_EQ(a, b);  // same seed and index: the same bytes
  EXPECT_NE(a, c);  // a pool of distinct images
  // Within 25% of the seed's ~4 kB, and it decodes to the class's size.
  EXPECT_GT(a.size(), 3000u);
  EXPECT_LT(a.size(), 5000u);
  std::vector<uint8_t> rgb;
  int w = 0, h = 0;
  ASSERT_TRUE(DecodeJpegRgb({"small#0", a.data(), a.size()}, 1 << 30, 1, &rgb, &w, &h).ok());
  EXPECT_EQ(w, 60);
  EXPECT_EQ(h, 70);
  ImageClassSpec medium;
  ASSERT_TRUE(ParseImageClass("medium", &medium).ok());
  ASSERT_TRUE(MakeSyntheticJpeg(medium, 7, 0, &a).ok());
  EXPECT_GT(a.size(), 90'000u);
  EXPECT_LT(a.size(), 150'000u);
  ImageClassSpec bad;
  Status s = ParseImageClass("huge", &bad);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("small, medium, large"), std::string::npos) << s.ToString();
}

TEST(BenchE2EConfig, ScenarioE2EAndCellRoundTrip) {
  BenchConfig c;
  ASSERT_TRUE(ConfigFromJson(json{{"scenario", {"e2e"}}, {"image_class", {"small", "large"}},
                                  {"preprocess", {"cpu"}}},
                             &c).ok());
  EXPECT_TRUE(c.e2e);
  EXPECT_TRUE(c.scenarios.empty());  // e2e only: no plain cells
  EXPECT_EQ(c.image_classes, (std::vector<std::string>{"small", "large"}));
  CellSpec cell;
  cell.kind = CellKind::kE2E;
  cell.model = "tiny_cnn";
  cell.backend = "onnxruntime";
  cell.image_class = "large";
  cell.preprocess = "gpu";
  CellSpec back;
  ASSERT_TRUE(CellFromJson(CellToJson(cell), &back).ok());
  EXPECT_EQ(back.kind, CellKind::kE2E);
  EXPECT_EQ(back.image_class, "large");
  EXPECT_EQ(back.preprocess, "gpu");
  EXPECT_EQ(back.CellId(), cell.CellId());
  EXPECT_NE(cell.CellId().find("|e2e:large:gpu"), std::string::npos) << cell.CellId();
  // A row of kind e2e needs its image class, and when ok, every stage.
  results::Row typed = RowFor(cell, RunInfo{});
  EXPECT_EQ(typed.kind, "e2e");
  EXPECT_EQ(results::Validate(typed), "");
  json row = results::ToJson(typed);
  EXPECT_EQ(row["kind"], "e2e");
  EXPECT_EQ(StrictError(row), "");
  row["status"] = "ok";
  row["error"] = nullptr;
  row["throughput_per_s"] = 10.0;
  row["latency_ms"]["p50"] = 1.0;
  row["samples"] = 5;
  EXPECT_NE(StrictError(row).find("stages_ms"), std::string::npos);
  row["stages_ms"] = {{"decode", 1.0}, {"preprocess", 1.0}, {"h2d", 0.0}, {"infer", 1.0}, {"d2h", 0.0}};
  EXPECT_EQ(StrictError(row), "");
  row.erase("image_class");
  EXPECT_NE(StrictError(row), "");
}

class BenchE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kOptic)) GTEST_SKIP() << "needs the optic binary at " << kOptic;
    dir_ = ::testing::TempDir() + "/bench_e2e_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(BenchE2E, TinyCnnSmallImagesStagesSumToTheLatency) {
  if (!HaveOnnxRuntime()) GTEST_SKIP() << "needs the onnxruntime backend";
  const std::string out = dir_ + "/e2e.jsonl";
  ASSERT_EQ(RunOptic({"bench", "--models", "tiny_cnn", "--backends", "onnxruntime", "--batch", "4",
                      "--precision", "fp32", "--threads", "1", "--scenario", "e2e",
                      "--image-class", "small", "--preprocess", "cpu,gpu", "--duration-s", "0.3",
                      "--timeout-s", "60", "--out", out, "--models-dir", OPTIC_TEST_MODELS}),
            0);
  const std::vector<json> rows = Rows(out);
  ASSERT_EQ(rows.size(), 2u);
  const json& cpu = rows[0]["preprocess"] == "cpu" ? rows[0] : rows[1];
  const json& gpu = rows[0]["preprocess"] == "cpu" ? rows[1] : rows[0];
  ASSERT_EQ(cpu["status"], "ok") << cpu.dump();
  EXPECT_EQ(cpu["kind"], "e2e");
  EXPECT_EQ(cpu["image_class"], "small");
  EXPECT_EQ(cpu["batch_size"], 4);
  const json& st = cpu["stages_ms"];
  double sum = 0;
  for (const char* k : {"decode", "preprocess", "h2d", "infer", "d2h"}) {
    ASSERT_TRUE(st.contains(k) && st[k].is_number()) << k << " in " << st.dump();
    EXPECT_GE(st[k].get<double>(), 0.0) << k;
    sum += st[k].get<double>();
  }
  EXPECT_GT(st["decode"].get<double>(), 0.0);
  EXPECT_GT(st["preprocess"].get<double>(), 0.0);
  EXPECT_GT(st["infer"].get<double>(), 0.0);
  EXPECT_EQ(st["h2d"].get<double>(), 0.0);  // CPU preprocessing, CPU model: nothing crosses
  const double mean = cpu["latency_ms"]["mean"].get<double>();
  // The stages are timed inside each query, the latency around it: only the loop's own
  // bookkeeping separates them.
  EXPECT_NEAR(sum, mean, 0.1 * mean + 0.05) << st.dump() << " mean " << mean;
  EXPECT_GT(cpu["throughput_per_s"].get<double>(), 0.0);
  ASSERT_TRUE(cpu["inference_only_throughput_per_s"].is_number());
  EXPECT_GT(cpu["inference_only_throughput_per_s"].get<double>(), 0.0);
  EXPECT_EQ(cpu["e2e"]["image_width"], 60);
  EXPECT_GT(cpu["e2e"]["image_bytes_mean"].get<double>(), 3000.0);
  EXPECT_EQ(cpu["nonfinite_outputs"], 0);

  std::unique_ptr<Preprocessor> probe;
  const bool have_gpu = CreatePreprocessor(PreprocessOptions{}, Device{DeviceType::kCUDA, 0}, &probe).ok();
  if (!have_gpu) {
    EXPECT_EQ(gpu["status"], "unsupported") << gpu.dump();
    EXPECT_NE(gpu["error"].get<std::string>().find("CUDA"), std::string::npos) << gpu.dump();
  }
}

TEST_F(BenchE2E, BadImageClassAndStrayFlagsAreUsageErrors) {
  const std::string out = dir_ + "/bad.jsonl";
  EXPECT_EQ(RunOptic({"bench", "--models", "tiny_cnn", "--scenario", "e2e", "--image-class", "huge",
                      "--out", out, "--models-dir", OPTIC_TEST_MODELS}),
            2);
  EXPECT_EQ(RunOptic({"bench", "--models", "tiny_cnn", "--scenario", "e2e", "--preprocess", "tpu",
                      "--out", out, "--models-dir", OPTIC_TEST_MODELS}),
            2);
  EXPECT_EQ(RunOptic({"bench", "--models", "tiny_cnn", "--image-class", "small", "--out", out,
                      "--models-dir", OPTIC_TEST_MODELS}),
            2);
  EXPECT_FALSE(fs::exists(out) && fs::file_size(out) > 0);
}

}  // namespace
}  // namespace optic::bench
