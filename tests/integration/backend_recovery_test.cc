// A failure inside a framework touches only the call that caused it: after Execute fails in the
// framework's own kernels (a 3x3 convolution given a 1x1 image, which only the framework can
// reject), the same Model answers the next good batch with exactly the outputs it gave before.
// Runs on every compiled-in CPU framework that reads the test model's ONNX or TorchScript file.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include <unistd.h>

#include "optic/registry.h"

namespace optic {
namespace {
namespace fs = std::filesystem;

const fs::path& ModelDir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("optic_recovery_" + std::to_string(getpid()));
    const std::string cmd = std::string(OPTIC_SOURCE_DIR) + "/.venv/bin/python " +
                            OPTIC_SOURCE_DIR + "/tests/fixtures/make_dynamic_conv.py " +
                            d.string() + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) fs::remove_all(d);
    return d;
  }();
  return dir;
}

Tensor Image(int64_t n, int64_t h, int64_t w, uint32_t seed) {
  Tensor t = Tensor::EmptyOrDie(DType::kFP32, {n, 3, h, w});
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  return t;
}

class Recovery : public ::testing::TestWithParam<std::string> {};

TEST_P(Recovery, FrameworkErrorLeavesTheModelServingTheNextBatch) {
  std::unique_ptr<Backend> backend;
  ASSERT_TRUE(CreateBackend(GetParam(), &backend).ok());
  std::string path;
  for (const auto& ext : backend->capabilities().file_extensions) {
    if (fs::exists(ModelDir() / ("model" + ext))) path = (ModelDir() / ("model" + ext)).string();
  }
  if (path.empty()) GTEST_SKIP() << GetParam() << " reads none of the test model's files";
  LoadOptions options;
  options.threads = 1;
  std::unique_ptr<Model> model;
  Status s = backend->Load(path, options, &model);
  ASSERT_TRUE(s.ok()) << s.ToString();

  const std::vector<Tensor> good = {Image(2, 8, 8, 1)};
  std::vector<Tensor> before, after, bad_out;
  s = model->Execute(good, &before);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (int round = 0; round < 3; ++round) {
    const std::vector<Tensor> bad = {Image(2, 1, 1, 2)};
    s = model->Execute(bad, &bad_out);
    EXPECT_FALSE(s.ok()) << GetParam() << " accepted a 1x1 image for a 3x3 convolution";
    EXPECT_NE(s.message().find(GetParam()), std::string::npos) << s.ToString();
    s = model->Execute(good, &after);
    ASSERT_TRUE(s.ok()) << "after a failed batch: " << s.ToString();
    ASSERT_EQ(after.size(), before.size());
    ASSERT_EQ(after[0].nbytes(), before[0].nbytes());
    EXPECT_EQ(std::memcmp(after[0].raw(), before[0].raw(), before[0].nbytes()), 0)
        << "outputs changed after a failed batch (round " << round << ")";
  }
}

std::vector<std::string> RealCpuBackends() {
  std::vector<std::string> names;
  for (const auto& name : BackendNames()) {
    std::unique_ptr<Backend> b;
    if (!CreateBackend(name, &b).ok() || b->capabilities().synthetic) continue;
    for (DeviceType d : b->capabilities().devices) {
      if (d == DeviceType::kCPU) {
        names.push_back(name);
        break;
      }
    }
  }
  return names;
}

INSTANTIATE_TEST_SUITE_P(CpuFrameworks, Recovery, ::testing::ValuesIn(RealCpuBackends()),
                         [](const auto& info) { return info.param; });

TEST(Recovery, TestModelWasMade) {
  EXPECT_TRUE(fs::exists(ModelDir() / "model.onnx"))
      << "tests/fixtures/make_dynamic_conv.py failed (needs .venv with torch)";
}

}  // namespace
}  // namespace optic
