// The libtorch backend on a CUDA device (label gpu): every precision it declares there against
// its own CPU fp32 output on tiny_cnn, channels_last, and a device index that does not exist.
// Skips, with the reason, where the torch backend is not built or sees no CUDA device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "optic/parity.h"
#include "optic/pipelining.h"
#include "optic/phase_timing.h"
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
      // cuDNN's autotuner may pick Winograd/FFT algorithms whose fp32 error (rel_l2 3.1e-4 on
      // tiny_cnn on the H200) exceeds fp32's 1e-4: strict parity is checked without it.
      o.backend_options = {{"channels_last", channels_last}, {"cudnn_benchmark", "false"}};
      Tensor y;
      s = RunOnce(o, &y);
      ASSERT_TRUE(s.ok()) << PrecisionName(p) << ": " << s.ToString();
      TensorDiff d;
      ASSERT_TRUE(CompareTensors(y, ref, &d).ok());
      EXPECT_EQ(d.nan_count, 0) << PrecisionName(p);
      // optic's parity criterion (optic/parity.h) is norm-wise: max_rel alone blows up on
      // near-zero logits (fp32 channels-last on the H200: max_rel 2.8e-4 at rel_l2 far below).
      EXPECT_LE(d.rel_l2, ParityTolerance(p))
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

// Several batches in flight (optic/pipelining.h) give the same outputs as Execute, in Submit
// order, from pinned and from ordinary host memory, with and without a CUDA graph; a full
// pipeline and an Execute while batches are in flight are refused, and the model stays usable.
TEST_F(TorchCudaTest, PipelinedBatchesMatchExecuteInOrder) {
  for (const char* graph : {"false", "true"}) {
    LoadOptions o;
    o.device = {DeviceType::kCUDA, 0};
    o.precision = Precision::kFP16;
    o.backend_options = {{"cuda_graph", graph}, {"channels_last", "true"},
                         {"pipeline_depth", "3"}};
    std::unique_ptr<Model> model;
    Status s = backend_->Load(path_, o, &model);
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto* p = dynamic_cast<PipelinedExecution*>(model.get());
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(p->max_in_flight(), 3);
    std::vector<Tensor> batches(5), expected(5);
    for (int i = 0; i < 5; ++i) {
      Tensor host;
      ASSERT_TRUE(MakeInput(model_->input, 4, /*seed=*/10 + i, &host).ok());
      if (i % 2 == 0) {  // every other batch from page-locked memory
        ASSERT_TRUE(p->AllocateHostInput(host.dtype(), host.shape(), &batches[i]).ok());
        std::memcpy(batches[i].raw(), host.raw(), host.nbytes());
      } else {
        batches[i] = host;
      }
      std::vector<Tensor> outs;
      ASSERT_TRUE(model->Execute({batches[i]}, &outs).ok());
      expected[i] = outs[0];
    }
    int next = 0;
    for (; next < 3; ++next) ASSERT_TRUE(p->Submit({batches[next]}).ok());
    EXPECT_EQ(p->in_flight(), 3);
    EXPECT_EQ(p->Submit({batches[3]}).code(), StatusCode::kUnavailable);
    std::vector<Tensor> outs;
    EXPECT_EQ(model->Execute({batches[0]}, &outs).code(), StatusCode::kUnavailable);
    for (int done = 0; done < 5; ++done) {
      ExecutePhases ph;
      s = p->Collect(&outs, &ph);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_EQ(outs.size(), 1u);
      TensorDiff d;
      ASSERT_TRUE(CompareTensors(outs[0], expected[done], &d).ok());
      // Same kernels on the same inputs: equal up to nondeterministic reduction order.
      EXPECT_LE(d.max_abs, 1e-5) << "graph=" << graph << " batch " << done;
      EXPECT_GE(ph.h2d_ms, 0);
      EXPECT_GT(ph.compute_ms, 0);
      if (next < 5) ASSERT_TRUE(p->Submit({batches[next++]}).ok());
    }
    EXPECT_EQ(p->in_flight(), 0);
    EXPECT_EQ(p->Collect(&outs, nullptr).code(), StatusCode::kInvalidArgument);
    ASSERT_TRUE(model->Execute({batches[1]}, &outs).ok());  // usable again
  }
}

}  // namespace
}  // namespace optic
