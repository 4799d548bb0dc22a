// Zoo::FileFor picks a model file by precision: a file exported in the precision asked for
// (the backend's own format first), the fp32 file for precisions a backend makes at load, and
// never the fp32 file for int8 or for a precision the backend runs only from its own file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "optic/zoo.h"

namespace optic {
namespace {

namespace fs = std::filesystem;

// A backend described only by what FileFor reads: its name and capabilities.
class FakeBackend final : public Backend {
 public:
  FakeBackend(std::string name, std::vector<std::string> exts, std::vector<Precision> own)
      : name_(std::move(name)), exts_(std::move(exts)), own_(std::move(own)) {}
  std::string name() const override { return name_; }
  std::string version() const override { return "0"; }
  Capabilities capabilities() const override {
    Capabilities c;
    c.file_extensions = exts_;
    c.precisions_from_file = own_;
    return c;
  }
  Status Load(const std::string&, const LoadOptions&, std::unique_ptr<Model>*) override {
    return Status::Internal("not loadable");
  }

 private:
  std::string name_;
  std::vector<std::string> exts_;
  std::vector<Precision> own_;
};

class ZooPrecisionFiles : public ::testing::Test {
 protected:
  // A zoo whose model "m" has the given formats (format -> file name).
  void Write(const std::vector<std::pair<std::string, std::string>>& files) {
    dir_ = ::testing::TempDir() + "/zoo_precision_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string list;
    for (const auto& [format, file] : files) {
      list += (list.empty() ? "" : ",") + std::string("\"") + format + "\": {\"path\": \"m/" +
              file + "\", \"sha256\": \"\", \"bytes\": 0}";
    }
    std::ofstream(dir_ + "/manifest.json")
        << "{\"models\": {\"m\": {\"input\": {\"shape\": [-1, 3, 8, 8]}, \"output\": "
           "{\"shape\": [-1, 5]}, \"files\": {" << list << "}}}}";
    ASSERT_TRUE(Zoo::Open(dir_, &zoo_).ok());
    ASSERT_TRUE(zoo_.Find("m", &model_).ok());
  }
  Status Pick(const Backend& b, Precision p, std::string* file) {
    std::string path;
    Status s = zoo_.FileFor(*model_, b, p, &path);
    *file = s.ok() ? fs::path(path).filename().string() : "";
    return s;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string dir_;
  Zoo zoo_;
  const ZooModel* model_ = nullptr;
};

const FakeBackend kOrt("onnxruntime", {".onnx", ".ort"}, {Precision::kFP16, Precision::kINT8});
const FakeBackend kOv("openvino", {".onnx", ".xml"}, {});
const FakeBackend kTorch("torch", {".pt"}, {});

TEST_F(ZooPrecisionFiles, EachPrecisionGetsItsOwnFile) {
  Write({{"onnx", "model.onnx"}, {"onnx-int8", "model.int8.onnx"},
         {"onnx-fp16", "model.fp16.onnx"}, {"openvino-int8", "model.int8.xml"},
         {"torchscript", "model.pt"}});
  std::string f;
  ASSERT_TRUE(Pick(kOrt, Precision::kFP32, &f).ok());
  EXPECT_EQ(f, "model.onnx");
  ASSERT_TRUE(Pick(kOrt, Precision::kINT8, &f).ok());
  EXPECT_EQ(f, "model.int8.onnx");
  ASSERT_TRUE(Pick(kOrt, Precision::kFP16, &f).ok());
  EXPECT_EQ(f, "model.fp16.onnx");
  // OpenVINO's own NNCF file before the onnxruntime-quantized one it also reads.
  ASSERT_TRUE(Pick(kOv, Precision::kINT8, &f).ok());
  EXPECT_EQ(f, "model.int8.xml");
  ASSERT_TRUE(Pick(kOv, Precision::kFP32, &f).ok());
  EXPECT_EQ(f, "model.onnx");
  // bf16 has no file of its own: OpenVINO makes it from the fp32 file at load.
  ASSERT_TRUE(Pick(kOv, Precision::kBF16, &f).ok());
  EXPECT_EQ(f, "model.onnx");
}

TEST_F(ZooPrecisionFiles, Int8NeverFallsBackToTheFp32File) {
  Write({{"onnx", "model.onnx"}, {"onnx-fp16", "model.fp16.onnx"}, {"torchscript", "model.pt"}});
  std::string f;
  for (const Backend* b : {static_cast<const Backend*>(&kOrt), static_cast<const Backend*>(&kOv),
                           static_cast<const Backend*>(&kTorch)}) {
    SCOPED_TRACE(b->name());
    Status s = Pick(*b, Precision::kINT8, &f);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported) << f;
    EXPECT_NE(s.message().find("no int8 file of model 'm'"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("--formats onnx-int8,openvino-int8"), std::string::npos);
  }
}

TEST_F(ZooPrecisionFiles, Fp16FromItsOwnFileOnlyWhereTheBackendSaysSo) {
  Write({{"onnx", "model.onnx"}, {"torchscript", "model.pt"}});
  std::string f;
  Status s = Pick(kOrt, Precision::kFP16, &f);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported) << f;
  EXPECT_NE(s.message().find("--formats onnx-fp16"), std::string::npos) << s.ToString();
  ASSERT_TRUE(Pick(kOv, Precision::kFP16, &f).ok());
  EXPECT_EQ(f, "model.onnx");
  ASSERT_TRUE(Pick(kTorch, Precision::kFP16, &f).ok());
  EXPECT_EQ(f, "model.pt");
}

TEST(ZooFormatPrecision, FromTheFormatSuffix) {
  EXPECT_EQ(FormatPrecision("onnx"), Precision::kFP32);
  EXPECT_EQ(FormatPrecision("torchscript"), Precision::kFP32);
  EXPECT_EQ(FormatPrecision("aoti-fp32"), Precision::kFP32);
  EXPECT_EQ(FormatPrecision("onnx-int8"), Precision::kINT8);
  EXPECT_EQ(FormatPrecision("openvino-int8"), Precision::kINT8);
  EXPECT_EQ(FormatPrecision("onnx-fp16"), Precision::kFP16);
  EXPECT_EQ(FormatPrecision("aoti-bf16"), Precision::kBF16);
  EXPECT_EQ(FormatPrecision("int8"), Precision::kFP32);  // a suffix, not a whole name
}

}  // namespace
}  // namespace optic
