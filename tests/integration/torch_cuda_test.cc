// The libtorch backend on a CUDA device (label gpu): every precision it declares there against
// its own CPU fp32 output on tiny_cnn, channels_last, and a device index that does not exist.
// Skips, with the reason, where the torch backend is not built or sees no CUDA device.
#include <gtest/gtest.h>

#include <algorithm>

#include "optic/parity.h"
#include "optic/registry.h"
#include "optic/zoo.h"

namespace optic {
namespace {

class TorchCudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto names = BackendNames();
    if (std::find(names.begin(), names.end(), "torch") == names.end()) {
      GTEST_SKIP() << "torch backend not built (OPTIC_WITH_TORCH)";
    }
    ASSERT_TRUE(CreateBackend("torch", &backend_).ok());
    const auto devices = backend_->capabilities().devices;
    if (std::find(devices.begin(), devices.end(), DeviceType::kCUDA) == devices.end()) {
      GTEST_SKIP() << "libtorch " << backend_->version()
                   << " sees no CUDA device (CPU-only build or no GPU)";
    }
    Status s = Zoo::Open(OPTIC_TEST_MODELS, &zoo_);
    if (!s.ok()) GTEST_SKIP() << "no model zoo: " << s.ToString();
    if (!zoo_.Find("tiny_cnn", &model_).ok()) GTEST_SKIP() << "tiny_cnn is not in the zoo";
    ASSERT_TRUE(zoo_.FileFor(*model_, *backend_, Precision::kFP32, &path_).ok());
  }

  Status RunOnce(const LoadOptions& options, Tensor* out) {
    std::unique_ptr<Model> model;
    OPTIC_RETURN_IF_ERROR(backend_->Load(path_, options, &model));
    Tensor in;
    OPTIC_RETURN_IF_ERROR(MakeInput(model_->input, 4, /*seed=*/3, &in));
    std::vector<Tensor> outs;
    OPTIC_RETURN_IF_ERROR(model->Execute({in}, &outs));
    if (outs.size() != 1 || !outs[0].is_host() || outs[0].dtype() != DType::kFP32) {
      return Status::Internal("expected one fp32 host output");
    }
    *out = outs[0];
    return Status::OK();
  }

  Zoo zoo_;
  const ZooModel* model_ = nullptr;
  std::unique_ptr<Backend> backend_;
  std::string path_;
};

TEST_F(TorchCudaTest, EveryPrecisionMatchesCpuFp32) {
  Tensor ref;
  Status s = RunOnce({}, &ref);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (Precision p : {Precision::kFP32, Precision::kTF32, Precision::kFP16, Precision::kBF16}) {
    for (const char* channels_last : {"false", "true"}) {
      LoadOptions o;
      o.device = {DeviceType::kCUDA, 0};
      o.precision = p;
      o.backend_options = {{"channels_last", channels_last}};
      Tensor y;
      s = RunOnce(o, &y);
      ASSERT_TRUE(s.ok()) << PrecisionName(p) << ": " << s.ToString();
      TensorDiff d;
      ASSERT_TRUE(CompareTensors(y, ref, &d).ok());
      EXPECT_EQ(d.nan_count, 0) << PrecisionName(p);
      EXPECT_LE(d.max_rel, ParityTolerance(p))
          << PrecisionName(p) << " channels_last=" << channels_last;
    }
  }
}

TEST_F(TorchCudaTest, MissingDeviceIndexIsUnsupportedHardware) {
  LoadOptions o;
  o.device = {DeviceType::kCUDA, 99};
  std::unique_ptr<Model> model;
  Status s = backend_->Load(path_, o, &model);
  EXPECT_EQ(s.code(), StatusCode::kUnsupportedHardware) << s.ToString();
  EXPECT_NE(s.message().find("cuda:99"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(path_), std::string::npos) << s.message();
}

}  // namespace
}  // namespace optic
