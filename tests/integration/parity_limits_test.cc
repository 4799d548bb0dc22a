// The parity limits on real models and frameworks: a correct reduced-precision run passes and a
// genuinely broken one fails (wrong layout, swapped colour channels, mixed-up samples), and
// `optic parity --model resnet50` (a README command) exits 0 on this machine.
#include <gtest/gtest.h>

#include <filesystem>

#include "optic/parity.h"
#include "optic/predictor.h"
#include "optic/registry.h"
#include "optic_child.h"

namespace optic {
namespace {

bool HasModel(const std::string& name) {
  return std::filesystem::exists(std::string(OPTIC_TEST_MODELS) + "/" + name);
}

// Runs `input` through `backend_name` at `precision` on the zoo model.
Status RunModel(const Zoo& zoo, const ZooModel& m, const std::string& backend_name, Precision precision,
                const Tensor& input, Tensor* out) {
  std::unique_ptr<Backend> backend;
  OPTIC_RETURN_IF_ERROR(CreateBackend(backend_name, &backend));
  std::string file;
  OPTIC_RETURN_IF_ERROR(zoo.FileFor(m, *backend, precision, &file));
  LoadOptions lo;
  lo.precision = precision;
  lo.threads = 2;
  lo.batch_size = 4;
  std::unique_ptr<Model> model;
  OPTIC_RETURN_IF_ERROR(backend->Load(file, lo, &model));
  std::unique_ptr<Predictor> predictor;
  OPTIC_RETURN_IF_ERROR(Predictor::Create(model.get(), {4, false, false}, &predictor));
  return predictor->Predict(input, out);
}

// The first real backend that runs `precision` here.
std::string BackendFor(Precision precision) {
  for (const auto& name : BackendNames()) {
    std::unique_ptr<Backend> b;
    if (!CreateBackend(name, &b).ok() || b->capabilities().synthetic) continue;
    const auto& ps = b->capabilities().precisions;
    if (std::find(ps.begin(), ps.end(), precision) != ps.end()) return name;
  }
  return "";
}

// MobileNet-V2 has the thinnest margins of the zoo at bf16 (docs/architecture.md, "Parity").
TEST(ParityLimits, CorrectBf16PassesAndBrokenOutputsFail) {
  if (!HasModel("mobilenet_v2")) {
    GTEST_SKIP() << "mobilenet_v2 not exported (build/optic models export --models mobilenet_v2)";
  }
  const std::string backend = BackendFor(Precision::kBF16);
  if (backend.empty()) GTEST_SKIP() << "no compiled-in backend runs bf16 on this machine";
  Zoo zoo;
  ASSERT_TRUE(Zoo::Open(OPTIC_TEST_MODELS, &zoo).ok());
  const ZooModel* m;
  ASSERT_TRUE(zoo.Find("mobilenet_v2", &m).ok());
  const int n = kParitySamples;
  Tensor input;
  ASSERT_TRUE(MakeCheckInput(m->input, n, 1, &input).ok());
  const Shape& s = input.shape();  // NCHW
  const int64_t c = s[1], h = s[2], w = s[3];
  Tensor transposed, bgr;
  ASSERT_TRUE(input.Clone(&transposed).ok());
  ASSERT_TRUE(input.Clone(&bgr).ok());
  const float* x = input.data<float>();
  for (int64_t i = 0; i < n * c; ++i) {
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t z = 0; z < w; ++z) transposed.data<float>()[(i * h + y) * w + z] = x[(i * w + z) * h + y];
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t ch = 0; ch < c; ++ch) {
      std::copy_n(x + (i * c + ch) * h * w, h * w, bgr.data<float>() + (i * c + (c - 1 - ch)) * h * w);
    }
  }
  const std::string ref_backend = BackendFor(Precision::kFP32);
  Tensor ref, good, bad_layout, bad_channels;
  ASSERT_TRUE(RunModel(zoo, *m, ref_backend, Precision::kFP32, input, &ref).ok());
  ASSERT_TRUE(RunModel(zoo, *m, backend, Precision::kBF16, input, &good).ok());
  ASSERT_TRUE(RunModel(zoo, *m, backend, Precision::kBF16, transposed, &bad_layout).ok());
  ASSERT_TRUE(RunModel(zoo, *m, backend, Precision::kBF16, bgr, &bad_channels).ok());
  Tensor shuffled;
  ASSERT_TRUE(good.Clone(&shuffled).ok());
  const int64_t k = good.numel() / n;
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(good.data<float>() + ((i + 1) % n) * k, k, shuffled.data<float>() + i * k);
  }
  auto failure = [&](const Tensor& out) {
    TensorDiff d;
    Agreement a;
    EXPECT_TRUE(MeasureAgreement(out, ref, &d, &a).ok());
    return ParityFailure(Precision::kBF16, d, a);
  };
  EXPECT_EQ(failure(good), "") << backend << " bf16 against " << ref_backend << " fp32";
  EXPECT_NE(failure(bad_layout), "") << "height and width swapped";
  EXPECT_NE(failure(bad_channels), "") << "colour channels reversed";
  EXPECT_NE(failure(shuffled), "") << "samples mixed up";
}

TEST(ParityLimits, ReadmeParityCommandPassesOnThisMachine) {
  if (!HasModel("resnet50")) GTEST_SKIP() << "resnet50 not exported (build/optic models export --models resnet50)";
  EXPECT_EQ(testing::RunOptic({"parity", "--model", "resnet50", "--models-dir", OPTIC_TEST_MODELS}), 0)
      << "optic parity --model resnet50: a backend x precision is out of its limits";
}

}  // namespace
}  // namespace optic
