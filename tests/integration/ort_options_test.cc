// onnxruntime backend options on any machine: a CUDA-only option or precision on the CPU is
// refused with a message that names it, and the next load with good options works.
#include <gtest/gtest.h>

#include <algorithm>

#include "optic/parity.h"
#include "optic/registry.h"
#include "optic/zoo.h"

namespace optic {
namespace {

TEST(OrtOptions, CudaGraphOnTheCpuIsRefusedAndTheNextLoadWorks) {
  const auto names = BackendNames();
  if (std::find(names.begin(), names.end(), "onnxruntime") == names.end()) {
    GTEST_SKIP() << "onnxruntime backend not built (OPTIC_WITH_ONNXRUNTIME)";
  }
  std::unique_ptr<Backend> backend;
  ASSERT_TRUE(CreateBackend("onnxruntime", &backend).ok());
  Zoo zoo;
  if (!Zoo::Open(OPTIC_TEST_MODELS, &zoo).ok()) GTEST_SKIP() << "no model zoo";
  const ZooModel* m = nullptr;
  if (!zoo.Find("tiny_cnn", &m).ok()) GTEST_SKIP() << "tiny_cnn is not in the zoo";
  std::string path;
  ASSERT_TRUE(zoo.FileFor(*m, *backend, Precision::kFP32, &path).ok());

  LoadOptions bad;
  bad.backend_options = {{"cuda_graph", "true"}};
  std::unique_ptr<Model> model;
  Status s = backend->Load(path, bad, &model);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("cuda_graph"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("device=cuda"), std::string::npos) << s.message();

  LoadOptions tf32;
  tf32.precision = Precision::kTF32;
  s = backend->Load(path, tf32, &model);
  EXPECT_FALSE(s.ok()) << "tf32 is a CUDA math mode, not a CPU precision";

  LoadOptions good;
  good.backend_options = {{"cuda_graph", "false"}};
  ASSERT_TRUE(backend->Load(path, good, &model).ok());
  Tensor in;
  ASSERT_TRUE(MakeInput(m->input, 2, 1, &in).ok());
  std::vector<Tensor> outs;
  EXPECT_TRUE(model->Execute({in}, &outs).ok());
}

}  // namespace
}  // namespace optic
