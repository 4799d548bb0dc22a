// The conformance suite: the tiny zoo models through every compiled-in framework backend and
// every precision it reports, against the reference backend at fp32 (ggml's test-backend-ops
// idea). A precision a backend declares but cannot run is a failure, not a skip.
#include <gtest/gtest.h>

#include <filesystem>

#include "optic/parity.h"
#include "optic/registry.h"

namespace optic {
namespace {

class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(std::string(OPTIC_TEST_MODELS) + "/manifest.json")) {
      GTEST_SKIP() << "no model zoo at " << OPTIC_TEST_MODELS
                   << " (run: build/optic models export --models tiny_cnn,tiny_mlp)";
    }
    ASSERT_TRUE(Zoo::Open(OPTIC_TEST_MODELS, &zoo_).ok());
  }
  Zoo zoo_;
};

TEST_P(Conformance, EveryBackendAndPrecisionMatchesReference) {
  ParityOptions opt;
  opt.threads = 2;
  opt.batch_size = 3;
  std::vector<ParityRow> rows;
  Status s = RunParity(zoo_, GetParam(), opt, &rows);
  ASSERT_TRUE(s.ok()) << s.ToString();
  int compared = 0;
  for (const ParityRow& r : rows) {
    SCOPED_TRACE(r.backend + " " + PrecisionName(r.precision));
    // Only a missing zoo file for a precision (e.g. no int8 export) may be absent.
    if (!r.ran && r.error.find("the zoo has no") != std::string::npos) continue;
    EXPECT_TRUE(r.ran) << r.error;
    EXPECT_TRUE(r.reference || r.pass) << r.failure;
    ++compared;
  }
  EXPECT_GE(compared, 1);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, Conformance, ::testing::Values("tiny_cnn", "tiny_mlp"));

TEST(Conformance, AtLeastOneRealFrameworkIsBuilt) {
  int real = 0;
  for (const auto& name : BackendNames()) {
    std::unique_ptr<Backend> b;
    ASSERT_TRUE(CreateBackend(name, &b).ok());
    if (!b->capabilities().synthetic) ++real;
  }
  EXPECT_GE(real, 1);
}

// A fast but wrong configuration must be visible: a model whose outputs differ fails parity.
TEST(Conformance, ParityDetectsADifference) {
  Tensor a = Tensor::EmptyOrDie(DType::kFP32, {2, 4});
  Tensor b = Tensor::EmptyOrDie(DType::kFP32, {2, 4});
  ASSERT_TRUE(FillUniform(&a, 1).ok());
  ASSERT_TRUE(a.Clone(&b).ok());
  b.data<float>()[5] += 0.01f;
  TensorDiff d;
  ASSERT_TRUE(CompareTensors(b, a, &d).ok());
  EXPECT_GT(d.max_rel, ParityTolerance(Precision::kFP32));
}

}  // namespace
}  // namespace optic
