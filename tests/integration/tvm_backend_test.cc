// The tvm backend (Relax compile in a child Python, TVM's C++ runtime) on the zoo: parity with ONNX
// Runtime at fp32, any batch size from one load, the compiled-library cache (a second load finds
// it and compiles nothing), errors that name the backend and the cause (missing file, corrupt
// file, an operator TVM's importer lacks, a wrong shape, an unsupported precision), and two Models
// executing at once. Skips where the backend is not built (no .deps/tvm-venv at configure time).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include "optic/parity.h"
#include "optic/registry.h"
#include "optic/zoo.h"

namespace optic {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

bool Built(const std::string& name) {
  const auto names = BackendNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Protobuf wire format, enough for a one-node ONNX model.
std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  return s + static_cast<char>(v);
}
std::string Field(int field, const std::string& bytes) {
  return Varint(static_cast<uint64_t>(field) << 3 | 2) + Varint(bytes.size()) + bytes;
}
std::string IntField(int field, uint64_t v) { return Varint(static_cast<uint64_t>(field) << 3) + Varint(v); }

// ValueInfoProto: fp32 tensor of the given dims.
std::string ValueInfo(const std::string& name, const std::vector<int>& dims) {
  std::string shape;
  for (int d : dims) shape += Field(1, IntField(1, d));
  const std::string tensor = IntField(1, 1) + Field(2, shape);
  return Field(1, name) + Field(2, Field(1, tensor));
}

// An ONNX model (opset 17) whose one node is `op_type` on a [2, 2] input.
std::string OneOpModel(const std::string& op_type) {
  const std::string node = Field(1, "x") + Field(2, "y") + Field(4, op_type);
  const std::string graph = Field(1, node) + Field(2, "g") + Field(11, ValueInfo("x", {2, 2})) +
                            Field(12, ValueInfo("y", {}));
  return IntField(1, 8) + Field(7, graph) + Field(8, Field(1, "") + IntField(2, 17));
}

class TvmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Built("tvm")) {
      GTEST_SKIP() << "tvm backend not built (OPTIC_WITH_TVM: needs .deps/tvm-venv with "
                      "apache-tvm, made by scripts/setup.sh, at configure time)";
    }
    Status s = Zoo::Open(OPTIC_TEST_MODELS, &zoo_);
    if (!s.ok()) GTEST_SKIP() << "no model zoo: " << s.ToString();
    ASSERT_TRUE(CreateBackend("tvm", &backend_).ok());
    if (!zoo_.Find("tiny_cnn", &model_).ok()) GTEST_SKIP() << "tiny_cnn is not in the zoo";
    ASSERT_TRUE(zoo_.FileFor(*model_, *backend_, Precision::kFP32, &path_).ok());
    tmp_ = fs::temp_directory_path() /
           ("optic_tvm_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(tmp_);
    fs::create_directories(tmp_);
    options_.cache_dir = (tmp_ / "cache").string();
  }
  void TearDown() override {
    if (!tmp_.empty()) fs::remove_all(tmp_);
  }

  std::vector<fs::path> CachedLibraries() const {
    std::vector<fs::path> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(tmp_ / "cache" / "tvm", ec)) {
      if (e.path().extension() == ".so") found.push_back(e.path());
    }
    return found;
  }

  void Run(Model* model, int64_t batch, uint64_t seed, std::vector<Tensor>* outs) {
    Tensor in;
    ASSERT_TRUE(MakeInput(model_->input, batch, seed, &in).ok());
    Status s = model->Execute({in}, outs);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(outs->size(), 1u);
    EXPECT_EQ((*outs)[0].dim(0), batch);
  }

  Zoo zoo_;
  const ZooModel* model_ = nullptr;
  std::unique_ptr<Backend> backend_;
  std::string path_;
  fs::path tmp_;
  LoadOptions options_;
};

TEST_F(TvmTest, CapabilitiesAreHonest) {
  const Capabilities c = backend_->capabilities();
  EXPECT_EQ(c.devices, std::vector<DeviceType>{DeviceType::kCPU}) << "PyPI's TVM has no CUDA";
  EXPECT_EQ(c.precisions, std::vector<Precision>{Precision::kFP32});
  EXPECT_TRUE(c.model_cache);
  EXPECT_NE(backend_->version().find("tvm-ffi "), std::string::npos) << backend_->version();
  EXPECT_NE(backend_->version().find("C++ runtime"), std::string::npos) << backend_->version();
}

TEST_F(TvmTest, TinyModelsMatchOnnxRuntime) {
  if (!Built("onnxruntime")) GTEST_SKIP() << "onnxruntime backend (the reference) not built";
  for (const char* name : {"tiny_cnn", "tiny_mlp"}) {
    ParityOptions opt;
    opt.backends = {"onnxruntime", "tvm"};
    opt.reference = "onnxruntime";
    opt.batch_size = 3;
    std::vector<ParityRow> rows;
    Status s = RunParity(zoo_, name, opt, &rows);
    ASSERT_TRUE(s.ok()) << s.ToString();
    int checked = 0;
    for (const ParityRow& r : rows) {
      if (r.backend != "tvm") continue;
      SCOPED_TRACE(std::string(name) + " " + PrecisionName(r.precision));
      ASSERT_TRUE(r.ran) << r.error;
      EXPECT_TRUE(r.pass) << r.failure;
      ++checked;
    }
    EXPECT_EQ(checked, 1) << name;
  }
}

TEST_F(TvmTest, OneLoadRunsAnyBatchSize) {
  std::unique_ptr<Model> model;
  Status s = backend_->Load(path_, options_, &model);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(model->inputs()[0].shape[0], -1) << "the batch axis stays symbolic";
  std::vector<Tensor> one, five;
  Run(model.get(), 1, 7, &one);
  Run(model.get(), 5, 7, &five);
  // The first sample of a batch of five is the same image as the batch of one.
  const float* a = one[0].data<float>();
  const float* b = five[0].data<float>();
  for (int64_t i = 0; i < one[0].numel(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4f) << i;
  EXPECT_EQ(CachedLibraries().size(), 1u) << "untuned, one library serves every batch size";
}

TEST_F(TvmTest, SecondLoadFindsTheCompiledLibrary) {
  const auto t0 = Clock::now();
  std::unique_ptr<Model> cold, warm;
  Status s = backend_->Load(path_, options_, &cold);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const double cold_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto libs = CachedLibraries();
  ASSERT_EQ(libs.size(), 1u);
  const auto written = fs::last_write_time(libs[0]);

  const auto t1 = Clock::now();
  s = backend_->Load(path_, options_, &warm);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const double warm_s = std::chrono::duration<double>(Clock::now() - t1).count();
  EXPECT_EQ(CachedLibraries(), libs);
  EXPECT_EQ(fs::last_write_time(libs[0]), written) << "the library was compiled again";
  // A cold load starts a Python that imports TVM (seconds); a hit only maps the library.
  EXPECT_LT(warm_s, cold_s / 2) << "cold " << cold_s << " s, cached " << warm_s << " s";
  std::vector<Tensor> a, b;
  Run(cold.get(), 2, 3, &a);
  Run(warm.get(), 2, 3, &b);
  EXPECT_EQ(0, std::memcmp(a[0].raw(), b[0].raw(), a[0].nbytes()));

  // Another file content is another key.
  const fs::path copy = tmp_ / "copy.onnx";
  fs::copy_file(path_, copy);
  std::ofstream(copy, std::ios::app | std::ios::binary) << Field(6, "doc");  // same graph
  std::unique_ptr<Model> other;
  s = backend_->Load(copy.string(), options_, &other);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CachedLibraries().size(), 2u);
}

TEST_F(TvmTest, DifferentModelsExecuteAtOnce) {
  std::unique_ptr<Model> m1, m2;
  ASSERT_TRUE(backend_->Load(path_, options_, &m1).ok());
  ASSERT_TRUE(backend_->Load(path_, options_, &m2).ok());
  std::vector<Tensor> expected;
  Run(m1.get(), 4, 11, &expected);
  auto worker = [&](Model* m, int* mismatches) {
    for (int i = 0; i < 50; ++i) {
      Tensor in;
      std::vector<Tensor> outs;
      if (!MakeInput(model_->input, 4, 11, &in).ok() || !m->Execute({in}, &outs).ok() ||
          std::memcmp(outs[0].raw(), expected[0].raw(), expected[0].nbytes()) != 0) {
        ++*mismatches;
      }
    }
  };
  int bad1 = 0, bad2 = 0;
  std::thread t1(worker, m1.get(), &bad1), t2(worker, m2.get(), &bad2);
  t1.join();
  t2.join();
  EXPECT_EQ(bad1, 0);
  EXPECT_EQ(bad2, 0);
}

TEST_F(TvmTest, WrongShapeIsRefused) {
  std::unique_ptr<Model> model;
  ASSERT_TRUE(backend_->Load(path_, options_, &model).ok());
  Tensor bad = Tensor::EmptyOrDie(DType::kFP32, {1, 3, 5, 5});
  std::vector<Tensor> outs;
  Status s = model->Execute({bad}, &outs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("tvm"), std::string::npos) << s.message();
}

TEST_F(TvmTest, ErrorsNameBackendAndCause) {
  std::unique_ptr<Model> model;
  Status s = backend_->Load((tmp_ / "absent.onnx").string(), options_, &model);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("tvm"), std::string::npos);

  const fs::path junk = tmp_ / "junk.onnx";
  std::ofstream(junk) << "this is not a protobuf";
  s = backend_->Load(junk.string(), options_, &model);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("tvm"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(junk.string()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("not a valid ONNX model"), std::string::npos) << s.message();
  EXPECT_EQ(model, nullptr);

  const fs::path det = tmp_ / "det.onnx";
  std::ofstream(det, std::ios::binary) << OneOpModel("Det");
  s = backend_->Load(det.string(), options_, &model);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.ToString();
  EXPECT_NE(s.message().find("Det"), std::string::npos) << s.message();
  EXPECT_EQ(model, nullptr);

  LoadOptions fp16 = options_;
  fp16.precision = Precision::kFP16;
  s = backend_->Load(path_, fp16, &model);
  EXPECT_FALSE(s.ok()) << "fp16 is not offered, so it must not run as fp32";

  LoadOptions negative = options_;
  negative.backend_options["tuning_trials"] = "-1";
  s = backend_->Load(path_, negative, &model);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_TRUE(CachedLibraries().empty()) << "nothing was compiled for a refused load";
}

}  // namespace
}  // namespace optic
