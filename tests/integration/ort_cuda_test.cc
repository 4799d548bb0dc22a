// The onnxruntime backend on the CUDA execution provider (label gpu): outputs against its own CPU
// fp32 output on tiny_cnn with and without CUDA graphs, a graph replayed on fresh inputs, and a
// refused input shape that leaves the captured graph working. Skips, with the reason, where the
// ONNX Runtime library has no CUDA provider (the CPU wheel) or the machine has no GPU.
#include <gtest/gtest.h>

#include <algorithm>

#include "optic/parity.h"
#include "optic/registry.h"
#include "optic/zoo.h"

namespace optic {
namespace {

class OrtCudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto names = BackendNames();
    if (std::find(names.begin(), names.end(), "onnxruntime") == names.end()) {
      GTEST_SKIP() << "onnxruntime backend not built (OPTIC_WITH_ONNXRUNTIME)";
    }
    ASSERT_TRUE(CreateBackend("onnxruntime", &backend_).ok());
    const auto devices = backend_->capabilities().devices;
    if (std::find(devices.begin(), devices.end(), DeviceType::kCUDA) == devices.end()) {
      GTEST_SKIP() << "ONNX Runtime " << backend_->version()
                   << " has no CUDA execution provider (CPU build; scripts/gpu/ort_cuda.sh)";
    }
    Status s = Zoo::Open(OPTIC_TEST_MODELS, &zoo_);
    if (!s.ok()) GTEST_SKIP() << "no model zoo: " << s.ToString();
    if (!zoo_.Find("tiny_cnn", &model_).ok()) GTEST_SKIP() << "tiny_cnn is not in the zoo";
    ASSERT_TRUE(zoo_.FileFor(*model_, *backend_, Precision::kFP32, &path_).ok());
  }

  static LoadOptions Cuda(bool graph, Precision precision = Precision::kFP32) {
    LoadOptions o;
    o.device = {DeviceType::kCUDA, 0};
    o.precision = precision;
    o.backend_options = {{"cuda_graph", graph ? "true" : "false"},
                         {"cudnn_conv_algo_search", "heuristic"}};
    return o;
  }

  Status Run(Model* model, int64_t batch, uint64_t seed, Tensor* out) {
    Tensor in;
    OPTIC_RETURN_IF_ERROR(MakeInput(model_->input, batch, seed, &in));
    std::vector<Tensor> outs;
    OPTIC_RETURN_IF_ERROR(model->Execute({in}, &outs));
    if (outs.size() != 1 || !outs[0].is_host() || outs[0].dtype() != DType::kFP32) {
      return Status::Internal("expected one fp32 host output");
    }
    *out = outs[0];
    return Status::OK();
  }

  Status Reference(int64_t batch, uint64_t seed, Tensor* out) {
    std::unique_ptr<Model> cpu;
    OPTIC_RETURN_IF_ERROR(backend_->Load(path_, {}, &cpu));
    return Run(cpu.get(), batch, seed, out);
  }

  static double RelL2(const Tensor& a, const Tensor& b) {
    TensorDiff d;
    Status s = CompareTensors(a, b, &d);
    return s.ok() ? d.rel_l2 : 1e9;
  }

  Zoo zoo_;
  const ZooModel* model_ = nullptr;
  std::unique_ptr<Backend> backend_;
  std::string path_;
};

TEST_F(OrtCudaTest, MatchesCpuWithAndWithoutCudaGraphs) {
  Tensor ref;
  ASSERT_TRUE(Reference(4, 3, &ref).ok());
  for (Precision p : {Precision::kFP32, Precision::kTF32}) {
    for (bool graph : {false, true}) {
      std::unique_ptr<Model> model;
      Status s = backend_->Load(path_, Cuda(graph, p), &model);
      ASSERT_TRUE(s.ok()) << s.ToString();
      for (int run = 0; run < 3; ++run) {  // warm-up, capture, replay
        Tensor y;
        s = Run(model.get(), 4, 3, &y);
        ASSERT_TRUE(s.ok()) << "cuda_graph=" << graph << " run " << run << ": " << s.ToString();
        EXPECT_LE(RelL2(y, ref), ParityTolerance(p))
            << PrecisionName(p) << " cuda_graph=" << graph << " run " << run;
      }
    }
  }
}

TEST_F(OrtCudaTest, GraphReplayReadsEachNewInput) {
  Tensor ref3, ref4;
  ASSERT_TRUE(Reference(4, 3, &ref3).ok());
  ASSERT_TRUE(Reference(4, 4, &ref4).ok());
  ASSERT_GT(RelL2(ref3, ref4), 1e-2) << "seeds 3 and 4 must give different outputs";
  std::unique_ptr<Model> model;
  ASSERT_TRUE(backend_->Load(path_, Cuda(true), &model).ok());
  for (uint64_t seed : {3u, 4u, 3u, 4u, 4u, 3u}) {
    Tensor y;
    ASSERT_TRUE(Run(model.get(), 4, seed, &y).ok());
    EXPECT_LE(RelL2(y, seed == 3 ? ref3 : ref4), ParityTolerance(Precision::kFP32))
        << "seed " << seed;
  }
}

TEST_F(OrtCudaTest, GraphRefusesAnotherShapeAndKeepsWorking) {
  Tensor ref;
  ASSERT_TRUE(Reference(4, 3, &ref).ok());
  std::unique_ptr<Model> model;
  ASSERT_TRUE(backend_->Load(path_, Cuda(true), &model).ok());
  Tensor y;
  ASSERT_TRUE(Run(model.get(), 4, 3, &y).ok());
  Status s = Run(model.get(), 2, 3, &y);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("cuda_graph"), std::string::npos) << s.message();
  for (int run = 0; run < 2; ++run) {
    ASSERT_TRUE(Run(model.get(), 4, 3, &y).ok());
    EXPECT_LE(RelL2(y, ref), ParityTolerance(Precision::kFP32));
  }
}

TEST_F(OrtCudaTest, DeviceThatDoesNotExistIsAnError) {
  LoadOptions o = Cuda(false);
  o.device.index = 64;
  std::unique_ptr<Model> model;
  Status s = backend_->Load(path_, o, &model);
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace optic
