// optic bench at int8 and fp16 on onnxruntime and openvino, from a zoo exported with the
// quantized and fp16 formats: each row ran the file of its precision (never the fp32 file),
// carries its agreement with the fp32 reference, and a damaged or missing int8 file is a row
// that names the file instead of a silent fp32 run; onnxruntime refuses a file at another
// precision than its own.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "integration/bench_rows.h"
#include "integration/optic_child.h"
#include "optic/registry.h"

namespace optic::bench {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using optic::testing::RunOptic;

class BenchPrecisionFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto names = BackendNames();
    for (const char* b : {"onnxruntime", "openvino"}) {
      if (std::find(names.begin(), names.end(), b) == names.end()) {
        skip_ = std::string("built without ") + b;
        return;
      }
    }
    zoo_ = (fs::path(::testing::TempDir()) / ("bench_precision_zoo_" + std::to_string(getpid())))
               .lexically_normal()
               .string();
    fs::remove_all(zoo_);
    const std::string cmd = std::string(OPTIC_BINARY_DIR) +
                            "/optic models export --models tiny_cnn --formats "
                            "onnx,onnx-int8,onnx-fp16,openvino-int8 --out " + zoo_ +
                            " > " + zoo_ + ".log 2>&1";
    export_rc_ = std::system(cmd.c_str());
  }
  static void TearDownTestSuite() {
    if (!zoo_.empty()) fs::remove_all(zoo_);
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    std::ifstream log(zoo_ + ".log");
    const std::string text((std::istreambuf_iterator<char>(log)), {});
    ASSERT_EQ(export_rc_, 0) << text;
    out_ = ::testing::TempDir() + "/bench_precision_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonl";
    fs::remove(out_);
  }
  // The rows of one sweep over onnxruntime and openvino at `precisions`, by backend|precision.
  std::map<std::string, json> Bench(const std::string& zoo, const std::string& precisions) {
    RunOptic({"bench", "--models", "tiny_cnn", "--backends", "onnxruntime,openvino",
              "--precision", precisions, "--batch", "2", "--scenario", "offline",
              "--duration-s", "0.2", "--timeout-s", "60", "--threads", "1", "--out", out_,
              "--models-dir", zoo});
    std::map<std::string, json> rows;
    for (const json& r : Rows(out_)) {
      rows[r["backend"].get<std::string>() + "|" + r["precision"].get<std::string>()] = r;
    }
    return rows;
  }
  static std::string File(const json& row) {
    return row["settings"].value("model_file", std::string());
  }

  static inline std::string skip_, zoo_;
  static inline int export_rc_ = -1;
  std::string out_;
};

TEST_F(BenchPrecisionFiles, EachRowRanTheFileOfItsPrecisionAndCarriesItsAgreement) {
  auto rows = Bench(zoo_, "fp32,int8,fp16");
  const std::string fp32 = (fs::path(zoo_) / "tiny_cnn" / "model.onnx").string();
  const std::map<std::string, std::string> want = {
      {"onnxruntime|fp32", "model.onnx"},      {"onnxruntime|int8", "model.int8.onnx"},
      {"onnxruntime|fp16", "model.fp16.onnx"}, {"openvino|fp32", "model.onnx"},
      {"openvino|int8", "model.int8.xml"}};
  for (const auto& [key, name] : want) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(rows.count(key)) << "no row";
    const json& r = rows[key];
    ASSERT_EQ(r["status"], "ok") << r.value("error", std::string());
    EXPECT_EQ(fs::path(File(r)).filename().string(), name);
    if (r["precision"] != "fp32") {
      // The claim under test: a reduced-precision row never ran the fp32 file.
      EXPECT_NE(fs::path(File(r)).lexically_normal(), fs::path(fp32).lexically_normal());
      for (const char* k : {"cosine_similarity", "rel_l2_err", "top1_agreement", "top5_agreement"}) {
        EXPECT_TRUE(r[k].is_number()) << k << ": " << r[k];
      }
      EXPECT_GT(r["cosine_similarity"].get<double>(), 0.9);
    }
  }
}

TEST_F(BenchPrecisionFiles, DamagedOrMissingInt8FileIsANamedError) {
  // A copy of the zoo with the onnxruntime int8 file truncated and the OpenVINO int8 IR gone.
  const std::string zoo = zoo_ + "-damaged";
  fs::remove_all(zoo);
  fs::copy(zoo_, zoo, fs::copy_options::recursive);
  const fs::path onnx = fs::path(zoo) / "tiny_cnn" / "model.int8.onnx";
  const fs::path xml = fs::path(zoo) / "tiny_cnn" / "model.int8.xml";
  fs::resize_file(onnx, fs::file_size(onnx) / 3);
  fs::remove(xml);
  auto rows = Bench(zoo, "int8");
  ASSERT_TRUE(rows.count("onnxruntime|int8") && rows.count("openvino|int8"));
  for (const auto& [key, path] : {std::pair{"onnxruntime|int8", onnx}, {"openvino|int8", xml}}) {
    SCOPED_TRACE(key);
    const json& r = rows[key];
    EXPECT_NE(r["status"], "ok");
    const std::string error = r.value("error", std::string());
    EXPECT_NE(error.find(path.string()), std::string::npos) << error;
    EXPECT_NE(File(r), (fs::path(zoo) / "tiny_cnn" / "model.onnx").string());
  }
  fs::remove_all(zoo);
}

// optic predict's exit code and output (stderr included).
std::pair<int, std::string> Predict(const std::string& args) {
  const std::string cmd = std::string(OPTIC_BINARY_DIR) + "/optic predict " + args + " 2>&1";
  std::string output;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::array<char, 4096> buf;
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) output.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, output};
}

// onnxruntime runs a file only at its own precision: fp16 weights only at fp16.
TEST_F(BenchPrecisionFiles, OnnxRuntimeRunsTheFp16FileOnlyAtFp16) {
  const std::string dir = (fs::path(zoo_) / "tiny_cnn").string();
  auto [code, out] = Predict("--backend onnxruntime --file " + dir + "/model.fp16.onnx");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("the file has fp16 weights, so it would run fp16"), std::string::npos) << out;
  std::tie(code, out) = Predict("--backend onnxruntime --file " + dir + "/model.onnx -o precision=fp16");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("--formats onnx-fp16"), std::string::npos) << out;
  std::tie(code, out) =
      Predict("--backend onnxruntime --file " + dir + "/model.fp16.onnx -o precision=fp16");
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = Predict("--backend onnxruntime --file " + dir + "/model.int8.onnx -o precision=fp16");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("so it would run int8"), std::string::npos) << out;
}

}  // namespace
}  // namespace optic::bench
