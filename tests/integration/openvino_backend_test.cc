// The OpenVINO backend on the zoo's tiny_cnn: parity with ONNX Runtime (or its own fp32 where
// ONNX Runtime is not built), variable batch, outputs that survive the next batch, errors that
// name the backend and the file, backend options and the compiled-model cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <unistd.h>

#include "optic/parity.h"
#include "optic/registry.h"
#include "optic/zoo.h"

namespace optic {
namespace {

namespace fs = std::filesystem;

bool Built(const std::string& name) {
  const auto names = BackendNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

class OpenVinoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Built("openvino")) GTEST_SKIP() << "openvino backend not built (OPTIC_WITH_OPENVINO)";
    Status s = Zoo::Open(OPTIC_TEST_MODELS, &zoo_);
    if (!s.ok()) GTEST_SKIP() << "no model zoo: " << s.ToString();
    ASSERT_TRUE(CreateBackend("openvino", &backend_).ok());
    const ZooModel* m;
    if (!zoo_.Find("tiny_cnn", &m).ok()) GTEST_SKIP() << "tiny_cnn is not in the zoo";
    model_ = m;
    ASSERT_TRUE(zoo_.FileFor(*m, *backend_, Precision::kFP32, &path_).ok());
    tmp_ = fs::temp_directory_path() /
           ("optic_ov_test_" + std::to_string(::getpid()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(tmp_);
    fs::create_directories(tmp_);
  }
  void TearDown() override {
    if (!tmp_.empty()) fs::remove_all(tmp_);
  }

  Status Run(Model* model, int64_t batch, uint64_t seed, Tensor* out) {
    Tensor in;
    OPTIC_RETURN_IF_ERROR(MakeInput(model_->input, batch, seed, &in));
    std::vector<Tensor> outs;
    OPTIC_RETURN_IF_ERROR(model->Execute({in}, &outs));
    if (outs.size() != 1) return Status::Internal("expected one output");
    *out = outs[0];
    return Status::OK();
  }

  Zoo zoo_;
  const ZooModel* model_ = nullptr;
  std::unique_ptr<Backend> backend_;
  std::string path_;
  fs::path tmp_;
};

TEST_F(OpenVinoTest, CapabilitiesAreHonest) {
  const Capabilities c = backend_->capabilities();
  EXPECT_NE(std::find(c.precisions.begin(), c.precisions.end(), Precision::kFP32),
            c.precisions.end());
  // OpenVINO has no tf32 mode on any device.
  EXPECT_EQ(std::find(c.precisions.begin(), c.precisions.end(), Precision::kTF32),
            c.precisions.end());
  EXPECT_TRUE(c.model_cache);
  EXPECT_TRUE(c.dynamic_batch);
}

TEST_F(OpenVinoTest, ParityWithinTolerance) {
  ParityOptions opt;
  opt.backends = {"openvino"};
  if (Built("onnxruntime")) opt.backends.insert(opt.backends.begin(), "onnxruntime");
  opt.reference = opt.backends.front();
  opt.precisions = {Precision::kFP32};
  for (Precision p : backend_->capabilities().precisions) {
    if (p != Precision::kFP32 && p != Precision::kINT8) opt.precisions.push_back(p);
  }
  std::vector<ParityRow> rows;
  ASSERT_TRUE(RunParity(zoo_, "tiny_cnn", opt, &rows).ok());
  int checked = 0;
  for (const ParityRow& r : rows) {
    if (r.backend != "openvino") continue;
    ASSERT_TRUE(r.ran) << PrecisionName(r.precision) << ": " << r.error;
    EXPECT_TRUE(r.pass) << PrecisionName(r.precision) << " max_rel " << r.diff.max_rel
                        << " > " << r.tolerance;
    if (!r.reference) ++checked;
  }
  EXPECT_GT(checked, 0) << "nothing was compared with a reference";
}

TEST_F(OpenVinoTest, VariableBatchAndOutputsSurviveNextBatch) {
  std::unique_ptr<Model> model;
  ASSERT_TRUE(backend_->Load(path_, {}, &model).ok());
  ASSERT_EQ(model->inputs().at(0).shape.at(0), -1);
  Tensor a, b, a_copy;
  ASSERT_TRUE(Run(model.get(), 3, 7, &a).ok());
  EXPECT_EQ(a.dim(0), 3);
  EXPECT_TRUE(a.owning());
  ASSERT_TRUE(a.Clone(&a_copy).ok());
  ASSERT_TRUE(Run(model.get(), 1, 8, &b).ok());
  EXPECT_EQ(b.dim(0), 1);
  TensorDiff d;
  ASSERT_TRUE(CompareTensors(a, a_copy, &d).ok());
  EXPECT_EQ(d.max_abs, 0) << "the second batch overwrote the first batch's output";
}

TEST_F(OpenVinoTest, MissingFileIsNotFound) {
  const std::string missing = (tmp_ / "absent.onnx").string();
  std::unique_ptr<Model> model;
  Status s = backend_->Load(missing, {}, &model);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("openvino"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(missing), std::string::npos) << s.message();
  EXPECT_EQ(model, nullptr);
}

TEST_F(OpenVinoTest, CorruptFileNamesBackendAndFile) {
  const std::string bad = (tmp_ / "garbage.onnx").string();
  std::ofstream(bad) << "this is not an ONNX protobuf \x01\x02\x03 at all";
  for (const std::string& cache : {std::string(), (tmp_ / "cache").string()}) {
    LoadOptions lo;
    lo.cache_dir = cache;
    std::unique_ptr<Model> model;
    Status s = backend_->Load(bad, lo, &model);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find("openvino"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(bad), std::string::npos) << s.message();
  }
}

TEST_F(OpenVinoTest, UnsupportedPrecisionNamesBackendAndFile) {
  LoadOptions lo;
  lo.precision = Precision::kTF32;
  std::unique_ptr<Model> model;
  Status s = backend_->Load(path_, lo, &model);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.ToString();
  EXPECT_NE(s.message().find("openvino"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(path_), std::string::npos) << s.message();

  // int8 on a float file: refused rather than silently run in fp32.
  const auto precisions = backend_->capabilities().precisions;
  if (std::find(precisions.begin(), precisions.end(), Precision::kINT8) != precisions.end()) {
    lo.precision = Precision::kINT8;
    s = backend_->Load(path_, lo, &model);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.ToString();
    EXPECT_NE(s.message().find(path_), std::string::npos) << s.message();
  }
}

TEST_F(OpenVinoTest, BackendOptionsAreValidated) {
  LoadOptions lo;
  ASSERT_TRUE(ParseLoadOption(*backend_, "performance_hint=throughput", &lo).ok());
  ASSERT_TRUE(ParseLoadOption(*backend_, "num_streams=2", &lo).ok());
  ASSERT_TRUE(ParseLoadOption(*backend_, "enable_cpu_pinning=false", &lo).ok());
  std::unique_ptr<Model> model;
  Status s = backend_->Load(path_, lo, &model);
  ASSERT_TRUE(s.ok()) << s.ToString();
  Tensor out;
  EXPECT_TRUE(Run(model.get(), 2, 1, &out).ok());

  EXPECT_FALSE(ParseLoadOption(*backend_, "performance_hint=fast", &lo).ok());
  EXPECT_FALSE(ParseLoadOption(*backend_, "no_such_option=1", &lo).ok());
  lo.backend_options = {{"num_streams", "0"}};
  s = backend_->Load(path_, lo, &model);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("num_streams"), std::string::npos) << s.message();
}

// Every file under `dir` with its modification time.
std::map<std::string, fs::file_time_type> Files(const fs::path& dir) {
  std::map<std::string, fs::file_time_type> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[e.path().string()] = e.last_write_time();
  }
  return files;
}

TEST_F(OpenVinoTest, CacheDirHoldsCompiledModel) {
  LoadOptions lo;
  lo.cache_dir = (tmp_ / "cache").string();
  std::unique_ptr<Model> first, second;
  ASSERT_TRUE(backend_->Load(path_, lo, &first).ok());
  const auto files = Files(lo.cache_dir);
  EXPECT_FALSE(files.empty()) << "the first load wrote no cache file";
  Status s = backend_->Load(path_, lo, &second);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Files(lo.cache_dir), files) << "the second load compiled and wrote again";
  Tensor a, b;
  ASSERT_TRUE(Run(first.get(), 2, 3, &a).ok());
  ASSERT_TRUE(Run(second.get(), 2, 3, &b).ok());
  TensorDiff d;
  ASSERT_TRUE(CompareTensors(b, a, &d).ok());
  EXPECT_EQ(d.max_abs, 0) << "the cached model computes something else";
}

}  // namespace
}  // namespace optic
