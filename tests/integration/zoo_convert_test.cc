// ConvertModel on models made here (tests/fixtures/make_convert_models.py): ONNX -> TorchScript
// through onnx2torch and TorchScript -> ONNX, each converted file run by a real backend against
// the source; the cache answering a second call; an operator onnx2torch lacks named in a
// kUnsupported status; corrupt, empty, missing and directory inputs refused with the reason.
#include "zoo/convert.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "optic/registry.h"

namespace optic {
namespace {
namespace fs = std::filesystem;

const fs::path& ModelDir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("optic_convert_" + std::to_string(getpid()));
    const std::string cmd = std::string(OPTIC_SOURCE_DIR) + "/.venv/bin/python " +
                            OPTIC_SOURCE_DIR + "/tests/fixtures/make_convert_models.py " +
                            d.string() + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) fs::remove_all(d);
    return d;
  }();
  return dir;
}

class Convert : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(ModelDir() / "small_cnn.onnx")) GTEST_SKIP() << "torch could not make models";
    cache_ = fs::temp_directory_path() /
             ("optic_convert_cache_" + std::to_string(getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(cache_);
  }
  void TearDown() override { fs::remove_all(cache_); }
  std::string Model(const std::string& name) { return (ModelDir() / name).string(); }
  fs::path cache_;
};

bool HasBackend(const std::string& name) {
  for (const auto& b : BackendNames()) {
    if (b == name) return true;
  }
  return false;
}

Tensor Image(int64_t h, int64_t w) {
  Tensor t = Tensor::EmptyOrDie(DType::kFP32, {1, 3, h, w});
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// Runs `path` on `backend`; the first output.
std::vector<float> RunOn(const std::string& backend, const std::string& path, const Tensor& x) {
  LoadOptions options;
  options.threads = 1;
  std::unique_ptr<Model> model;
  Status s = LoadModel(backend, path, options, &model);
  EXPECT_TRUE(s.ok()) << backend << " " << path << ": " << s.ToString();
  if (!s.ok()) return {};
  std::vector<Tensor> out;
  s = model->Execute({x}, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return {};
  return std::vector<float>(out[0].data<float>(), out[0].data<float>() + out[0].numel());
}

void ExpectClose(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  ASSERT_FALSE(want.empty());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4) << "at " << i;
}

TEST_F(Convert, OnnxToTorchScriptRunsInLibtorchLikeOnnxRuntime) {
  ConvertedFile file;
  Status s = ConvertModel(Model("small_cnn.onnx"), "torchscript", cache_.string(), &file);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(file.cached);
  EXPECT_EQ(file.source_format, "onnx");
  EXPECT_TRUE(fs::exists(file.path)) << file.path;
  EXPECT_EQ(fs::path(file.path).parent_path().parent_path(), fs::absolute(cache_));
  EXPECT_NE(file.converted_by.find("onnx2torch"), std::string::npos) << file.converted_by;
  EXPECT_NE(file.converted_by.find("torch.jit.trace"), std::string::npos) << file.converted_by;
  EXPECT_EQ(file.cache_key.size(), 64u);
  EXPECT_GT(file.convert_seconds, 0);
  if (!HasBackend("torch") || !HasBackend("onnxruntime")) {
    GTEST_SKIP() << "needs the torch and onnxruntime backends to compare outputs";
  }
  // A size other than the one traced, since the source has variable H/W.
  const Tensor x = Image(48, 40);
  ExpectClose(RunOn("torch", file.path, x), RunOn("onnxruntime", Model("small_cnn.onnx"), x));
}

TEST_F(Convert, SecondCallIsACacheHit) {
  ConvertedFile first, second;
  ASSERT_TRUE(ConvertModel(Model("small_cnn.onnx"), "torchscript", cache_.string(), &first).ok());
  const auto written = fs::last_write_time(first.path);
  Status s = ConvertModel(Model("small_cnn.onnx"), "torchscript", cache_.string(), &second);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(second.path, first.path);
  EXPECT_EQ(second.cache_key, first.cache_key);
  EXPECT_EQ(second.converted_by, first.converted_by);
  EXPECT_EQ(fs::last_write_time(second.path), written);
  EXPECT_LT(second.seconds, first.seconds / 4) << "a hit must not run the converter";

  // Another target format of the same file is another entry.
  ConvertedFile onnx;
  s = ConvertModel(Model("small_cnn.pt"), "onnx", cache_.string(), &onnx);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_NE(onnx.cache_key, first.cache_key);
}

TEST_F(Convert, TraceShapesArePartOfTheKeyAndTheTrace) {
  ConvertedFile plain, shaped;
  ASSERT_TRUE(ConvertModel(Model("small_cnn.onnx"), "torchscript", cache_.string(), &plain).ok());
  Status s = ConvertModel(Model("small_cnn.onnx"), "torchscript", cache_.string(),
                          {"input=1x3x40x48"}, &shaped);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(shaped.cached);
  EXPECT_NE(shaped.cache_key, plain.cache_key);
  std::ifstream info(fs::path(shaped.path).parent_path() / "info.json");
  std::string text((std::istreambuf_iterator<char>(info)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("40,"), std::string::npos) << text;  // traced_shapes [[1, 3, 40, 48]]
  // small_cnn pools adaptively, so its trace keeps variable sizes: the sidecar says -1.
  std::ifstream sidecar(shaped.path + ".json");
  std::string io((std::istreambuf_iterator<char>(sidecar)), std::istreambuf_iterator<char>());
  EXPECT_NE(io.find("-1"), std::string::npos) << io;
  EXPECT_EQ(io.find("40"), std::string::npos) << io;
}

TEST_F(Convert, TorchScriptToOnnxAgreesWithTheSameNetsOnnx) {
  ConvertedFile file;
  Status s = ConvertModel(Model("small_cnn.pt"), "onnx", cache_.string(), &file);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(file.source_format, "torchscript");
  EXPECT_EQ(fs::path(file.path).extension(), ".onnx");
  EXPECT_NE(file.converted_by.find("torch.onnx.export"), std::string::npos);
  if (!HasBackend("onnxruntime")) GTEST_SKIP() << "needs the onnxruntime backend";
  // small_cnn.pt and small_cnn.onnx hold the same weights, so ONNX Runtime must agree on both.
  const Tensor x = Image(32, 32);
  const std::vector<float> got = RunOn("onnxruntime", file.path, x);
  EXPECT_EQ(got.size(), 4u);
  ExpectClose(got, RunOn("onnxruntime", Model("small_cnn.onnx"), x));
}

TEST_F(Convert, OperatorTheConverterLacksIsUnsupportedAndNamed) {
  ConvertedFile file;
  Status s = ConvertModel(Model("grid.onnx"), "torchscript", cache_.string(), &file);
  ASSERT_EQ(s.code(), StatusCode::kUnsupported) << s.ToString();
  EXPECT_EQ(s.message().rfind("onnx2torch", 0), 0u) << s.message();
  EXPECT_NE(s.message().find("GridSample"), std::string::npos) << s.message();
  // The refusal is cached too, with the same reason.
  ConvertedFile again;
  Status t = ConvertModel(Model("grid.onnx"), "torchscript", cache_.string(), &again);
  EXPECT_EQ(t.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(again.cached);
  EXPECT_NE(t.message().find("GridSample"), std::string::npos) << t.message();
}

TEST_F(Convert, BadInputsAreRefusedWithTheReason) {
  ConvertedFile file;
  fs::create_directories(cache_);
  // Missing.
  Status s = ConvertModel((cache_ / "absent.onnx").string(), "torchscript", cache_.string(), &file);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  // A directory.
  s = ConvertModel(ModelDir().string(), "torchscript", cache_.string(), &file);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("directory"), std::string::npos) << s.message();
  // Empty.
  const fs::path empty = cache_ / "empty.onnx";
  std::ofstream(empty).close();
  s = ConvertModel(empty.string(), "torchscript", cache_.string(), &file);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("empty"), std::string::npos) << s.message();
  // Not a model at all.
  const fs::path text = cache_ / "notes.onnx";
  std::ofstream(text) << "this is not a model\n";
  s = ConvertModel(text.string(), "torchscript", cache_.string(), &file);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  // An ONNX file cut in half: looks like protobuf, the converter's reader rejects it.
  std::ifstream in(Model("small_cnn.onnx"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fs::path cut = cache_ / "cut.onnx";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  s = ConvertModel(cut.string(), "torchscript", cache_.string(), &file);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("not a valid ONNX model"), std::string::npos) << s.message();
  // An unknown target.
  s = ConvertModel(Model("small_cnn.onnx"), "tensorrt", cache_.string(), &file);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("tensorrt"), std::string::npos) << s.message();
}

TEST_F(Convert, SameFormatIsTheSourceItself) {
  ConvertedFile file;
  Status s = ConvertModel(Model("small_cnn.onnx"), "onnx", cache_.string(), &file);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(fs::path(file.path), fs::absolute(Model("small_cnn.onnx")));
  EXPECT_TRUE(file.converted_by.empty());
}

}  // namespace
}  // namespace optic
