// The xla backend (JAX through embedded Python) on the zoo: parity with ONNX Runtime at fp32
// (tiny_cnn, resnet50) and at fp16/bf16 within their tolerances, a second batch size compiled
// on first use, the bridge's phase timing, JAX's persistent compilation cache, and errors that
// name the backend and the file. Skips where the backend is not built (no jax at configure time).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "optic/parity.h"
#include "optic/phase_timing.h"
#include "optic/registry.h"
#include "optic/zoo.h"

namespace optic {
namespace {

namespace fs = std::filesystem;

bool Built(const std::string& name) {
  const auto names = BackendNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

class XlaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Built("xla")) {
      GTEST_SKIP() << "xla backend not built (OPTIC_WITH_XLA: needs pybind11 and a Python "
                      "with jax, numpy and onnx at configure time)";
    }
    Status s = Zoo::Open(OPTIC_TEST_MODELS, &zoo_);
    if (!s.ok()) GTEST_SKIP() << "no model zoo: " << s.ToString();
    ASSERT_TRUE(CreateBackend("xla", &backend_).ok());
    const ZooModel* m;
    if (!zoo_.Find("tiny_cnn", &m).ok()) GTEST_SKIP() << "tiny_cnn is not in the zoo";
    model_ = m;
    ASSERT_TRUE(zoo_.FileFor(*m, *backend_, Precision::kFP32, &path_).ok());
    tmp_ = fs::temp_directory_path() /
           ("optic_xla_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(tmp_);
    fs::create_directories(tmp_);
  }
  void TearDown() override {
    if (!tmp_.empty()) fs::remove_all(tmp_);
  }

  void ExpectParity(const std::string& model, std::vector<Precision> precisions, int batch) {
    if (!Built("onnxruntime")) GTEST_SKIP() << "onnxruntime backend (the reference) not built";
    ParityOptions opt;
    opt.backends = {"onnxruntime", "xla"};
    opt.reference = "onnxruntime";
    opt.precisions = std::move(precisions);
    opt.batch_size = batch;
    std::vector<ParityRow> rows;
    Status s = RunParity(zoo_, model, opt, &rows);
    ASSERT_TRUE(s.ok()) << s.ToString();
    int checked = 0;
    for (const ParityRow& r : rows) {
      if (r.backend != "xla") continue;
      SCOPED_TRACE(model + " " + PrecisionName(r.precision));
      ASSERT_TRUE(r.ran) << r.error;
      EXPECT_TRUE(r.pass) << "rel_l2 " << r.diff.rel_l2 << " > " << r.tolerance;
      EXPECT_EQ(r.diff.nan_count, 0);
      ++checked;
    }
    EXPECT_EQ(checked, static_cast<int>(opt.precisions.size()));
  }

  Zoo zoo_;
  const ZooModel* model_ = nullptr;
  std::unique_ptr<Backend> backend_;
  std::string path_;
  fs::path tmp_;
};

TEST_F(XlaTest, CapabilitiesAreHonest) {
  const Capabilities c = backend_->capabilities();
  for (Precision p : {Precision::kFP32, Precision::kFP16, Precision::kBF16}) {
    EXPECT_NE(std::find(c.precisions.begin(), c.precisions.end(), p), c.precisions.end())
        << PrecisionName(p);
  }
  const bool cuda =
      std::find(c.devices.begin(), c.devices.end(), DeviceType::kCUDA) != c.devices.end();
  const bool tf32 =
      std::find(c.precisions.begin(), c.precisions.end(), Precision::kTF32) != c.precisions.end();
  EXPECT_EQ(cuda, tf32) << "tf32 is offered exactly when JAX sees a GPU";
  EXPECT_NE(backend_->version().find("jax "), std::string::npos) << backend_->version();
}

TEST_F(XlaTest, TinyCnnMatchesOnnxRuntime) {
  ExpectParity("tiny_cnn", {Precision::kFP32, Precision::kFP16, Precision::kBF16}, 2);
}

TEST_F(XlaTest, ResNet50MatchesOnnxRuntimeAtFp32) {
  const ZooModel* m;
  if (!zoo_.Find("resnet50", &m).ok()) GTEST_SKIP() << "resnet50 is not in the zoo";
  ExpectParity("resnet50", {Precision::kFP32}, 1);
}

TEST_F(XlaTest, NewBatchSizeCompilesAndPhasesAreReported) {
  LoadOptions o;
  o.batch_size = 1;
  std::unique_ptr<Model> model;
  Status s = backend_->Load(path_, o, &model);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const auto* timed = dynamic_cast<const PhaseReporting*>(model.get());
  ASSERT_NE(timed, nullptr);
  ExecutePhases p;
  EXPECT_FALSE(timed->LastPhases(&p)) << "nothing has run yet";
  for (int64_t batch : {1, 3}) {
    Tensor in;
    ASSERT_TRUE(MakeInput(model_->input, batch, 7, &in).ok());
    std::vector<Tensor> outs;
    s = model->Execute({in}, &outs);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(outs.size(), 1u);
    EXPECT_EQ(outs[0].dim(0), batch);
    EXPECT_EQ(outs[0].dtype(), DType::kFP32);
    ASSERT_TRUE(timed->LastPhases(&p));
    EXPECT_GT(p.compute_ms, 0);
    EXPECT_GE(p.h2d_ms, 0);
    EXPECT_GE(p.d2h_ms, 0);
    EXPECT_GT(p.bridge_ms, 0) << "the bridge cannot be free";
  }
  // A wrong shape is refused before Python sees it, and the last phases are invalidated.
  Tensor bad = Tensor::EmptyOrDie(DType::kFP32, {1, 3, 5, 5});
  std::vector<Tensor> outs;
  s = model->Execute({bad}, &outs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("xla"), std::string::npos) << s.message();
  EXPECT_FALSE(timed->LastPhases(&p));
}

TEST_F(XlaTest, CacheDirFillsJaxCompilationCache) {
  LoadOptions o;
  o.cache_dir = (tmp_ / "cache").string();
  std::unique_ptr<Model> model;
  Status s = backend_->Load(path_, o, &model);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // JAX's cache folder is process-wide (the first cache_dir wins), so only check ours when it
  // is the one in use: this test is the only one here that passes a cache_dir.
  const fs::path jax_dir = fs::path(o.cache_dir) / "jax";
  ASSERT_TRUE(fs::is_directory(jax_dir));
  EXPECT_FALSE(fs::is_empty(jax_dir)) << "no compiled executable was written to " << jax_dir;
}

TEST_F(XlaTest, ErrorsNameBackendAndFile) {
  std::unique_ptr<Model> model;
  Status s = backend_->Load((tmp_ / "absent.onnx").string(), LoadOptions{}, &model);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("xla"), std::string::npos);

  const fs::path junk = tmp_ / "junk.onnx";
  std::ofstream(junk) << "this is not a protobuf";
  s = backend_->Load(junk.string(), LoadOptions{}, &model);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(junk.string()), std::string::npos) << s.message();
  EXPECT_EQ(model, nullptr);

  LoadOptions tf32;
  tf32.precision = Precision::kTF32;
  s = backend_->Load(path_, tf32, &model);
  EXPECT_FALSE(s.ok()) << "tf32 on the CPU must be refused";
}

}  // namespace
}  // namespace optic
