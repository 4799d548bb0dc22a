// The iree backend (IREE's compiler in a child Python, its runtime in the embedded Python) on the
// zoo: parity with ONNX Runtime at fp32, one module per batch size compiled once and cached (a
// second load starts no compiler), a compiled .vmfb loaded directly, errors that name the backend
// and the cause (missing file, corrupt file, an operator IREE cannot compile, a damaged module, a
// wrong shape, an unsupported precision), and two Models executing at once. Skips where the
// backend is not built (no iree-base-compiler/-runtime in .venv at configure time).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
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

// An ONNX model (opset 17) whose one node is `op_type` from x to y.
std::string OneOpModel(const std::string& op_type, const std::vector<int>& in,
                       const std::vector<int>& out) {
  const std::string node = Field(1, "x") + Field(2, "y") + Field(4, op_type);
  const std::string graph = Field(1, node) + Field(2, "g") + Field(11, ValueInfo("x", in)) +
                            Field(12, ValueInfo("y", out));
  return IntField(1, 8) + Field(7, graph) + Field(8, Field(1, "") + IntField(2, 17));
}

class IreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Built("iree")) {
      GTEST_SKIP() << "iree backend not built (OPTIC_WITH_IREE: needs iree-base-compiler and "
                      "iree-base-runtime in .venv, installed by scripts/setup.sh, at configure "
                      "time)";
    }
    Status s = Zoo::Open(OPTIC_TEST_MODELS, &zoo_);
    if (!s.ok()) GTEST_SKIP() << "no model zoo: " << s.ToString();
    ASSERT_TRUE(CreateBackend("iree", &backend_).ok());
    if (!zoo_.Find("tiny_cnn", &model_).ok()) GTEST_SKIP() << "tiny_cnn is not in the zoo";
    ASSERT_TRUE(zoo_.FileFor(*model_, *backend_, Precision::kFP32, &path_).ok());
    tmp_ = fs::temp_directory_path() /
           ("optic_iree_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(tmp_);
    fs::create_directories(tmp_);
    options_.cache_dir = (tmp_ / "cache").string();
    options_.batch_size = 2;
  }
  void TearDown() override {
    if (!tmp_.empty()) fs::remove_all(tmp_);
  }

  std::vector<fs::path> Modules() const {
    std::vector<fs::path> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(tmp_ / "cache" / "iree", ec)) {
      if (e.path().extension() == ".vmfb") found.push_back(e.path());
    }
    std::sort(found.begin(), found.end());
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

TEST_F(IreeTest, CapabilitiesAreHonest) {
  const Capabilities c = backend_->capabilities();
  EXPECT_EQ(c.devices.front(), DeviceType::kCPU);
  EXPECT_EQ(c.precisions.front(), Precision::kFP32);
  if (c.devices.size() == 1) {
    EXPECT_EQ(c.precisions, std::vector<Precision>{Precision::kFP32}) << "fp16 is cuda only";
  }
  EXPECT_TRUE(c.model_cache);
  EXPECT_NE(backend_->version().find("iree-base-runtime "), std::string::npos) << backend_->version();
  EXPECT_NE(backend_->version().find("embedded Python"), std::string::npos) << backend_->version();
}

TEST_F(IreeTest, TinyCnnMatchesOnnxRuntime) {
  if (!Built("onnxruntime")) GTEST_SKIP() << "onnxruntime backend (the reference) not built";
  ParityOptions opt;
  opt.backends = {"onnxruntime", "iree"};
  opt.reference = "onnxruntime";
  opt.batch_size = 3;
  std::vector<ParityRow> rows;
  Status s = RunParity(zoo_, "tiny_cnn", opt, &rows);
  ASSERT_TRUE(s.ok()) << s.ToString();
  int checked = 0;
  for (const ParityRow& r : rows) {
    if (r.backend != "iree") continue;
    SCOPED_TRACE(PrecisionName(r.precision));
    ASSERT_TRUE(r.ran) << r.error;
    EXPECT_TRUE(r.pass) << r.failure;
    ++checked;
  }
  EXPECT_EQ(checked, 1);
}

TEST_F(IreeTest, EachBatchSizeCompilesOnceAndAgrees) {
  std::unique_ptr<Model> model;
  Status s = backend_->Load(path_, options_, &model);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(model->inputs()[0].shape[0], -1) << "the model declares the graph's variable batch";
  EXPECT_EQ(Modules().size(), 1u) << "the load compiles the module for its batch_size";
  std::vector<Tensor> two, five, again;
  Run(model.get(), 2, 7, &two);
  Run(model.get(), 5, 7, &five);
  EXPECT_EQ(Modules().size(), 2u) << "a new batch size is its own static-shape module";
  Run(model.get(), 5, 7, &again);
  EXPECT_EQ(Modules().size(), 2u);
  // The first two samples of a batch of five are the same images as the batch of two.
  const float* a = two[0].data<float>();
  const float* b = five[0].data<float>();
  for (int64_t i = 0; i < two[0].numel(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4f) << i;
  EXPECT_EQ(0, std::memcmp(five[0].raw(), again[0].raw(), five[0].nbytes()));
}

TEST_F(IreeTest, SecondLoadFindsTheCompiledModule) {
  const auto t0 = Clock::now();
  std::unique_ptr<Model> cold, warm;
  Status s = backend_->Load(path_, options_, &cold);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const double cold_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto modules = Modules();
  ASSERT_EQ(modules.size(), 1u);
  const auto written = fs::last_write_time(modules[0]);

  const auto t1 = Clock::now();
  s = backend_->Load(path_, options_, &warm);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const double warm_s = std::chrono::duration<double>(Clock::now() - t1).count();
  EXPECT_EQ(Modules(), modules);
  EXPECT_EQ(fs::last_write_time(modules[0]), written) << "the module was compiled again";
  // A cold load starts a Python that imports ONNX and runs iree-compile (seconds); a hit only
  // maps the module.
  EXPECT_LT(warm_s, cold_s / 2) << "cold " << cold_s << " s, cached " << warm_s << " s";
  std::vector<Tensor> a, b;
  Run(cold.get(), 2, 3, &a);
  Run(warm.get(), 2, 3, &b);
  EXPECT_EQ(0, std::memcmp(a[0].raw(), b[0].raw(), a[0].nbytes()));

  // Another optimisation level is another module; so is another file content.
  LoadOptions o3 = options_;
  o3.backend_options["opt_level"] = "O3";
  std::unique_ptr<Model> other;
  s = backend_->Load(path_, o3, &other);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Modules().size(), 2u);
  const fs::path copy = tmp_ / "copy.onnx";
  fs::copy_file(path_, copy);
  std::ofstream(copy, std::ios::app | std::ios::binary) << Field(6, "doc");  // same graph
  s = backend_->Load(copy.string(), options_, &other);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Modules().size(), 3u);
}

TEST_F(IreeTest, CompiledModuleLoadsDirectly) {
  std::unique_ptr<Model> onnx;
  ASSERT_TRUE(backend_->Load(path_, options_, &onnx).ok());
  ASSERT_EQ(Modules().size(), 1u);
  const fs::path vmfb = tmp_ / "tiny.vmfb";
  fs::copy_file(Modules()[0], vmfb);
  fs::copy_file(fs::path(Modules()[0]).replace_extension(".json"), tmp_ / "tiny.json");
  std::unique_ptr<Model> module;
  Status s = backend_->Load(vmfb.string(), options_, &module);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(module->inputs()[0].shape[0], 2) << "a module runs at the shapes it was built for";
  std::vector<Tensor> a, b;
  Run(onnx.get(), 2, 5, &a);
  Run(module.get(), 2, 5, &b);
  EXPECT_EQ(0, std::memcmp(a[0].raw(), b[0].raw(), a[0].nbytes()));
  Tensor in;
  ASSERT_TRUE(MakeInput(model_->input, 3, 5, &in).ok());
  s = module->Execute({in}, &b);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();

  // A module without its compile record, and a damaged module, are named errors.
  fs::copy_file(vmfb, tmp_ / "lonely.vmfb");
  s = backend_->Load((tmp_ / "lonely.vmfb").string(), options_, &module);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("compile record"), std::string::npos) << s.message();
  const fs::path damaged = tmp_ / "damaged.vmfb";
  {
    std::ifstream in_file(vmfb, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in_file)), {});
    for (size_t i = 16; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(~bytes[i]);
    std::ofstream(damaged, std::ios::binary) << bytes;
  }
  fs::copy_file(tmp_ / "tiny.json", tmp_ / "damaged.json");
  s = backend_->Load(damaged.string(), options_, &module);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("iree"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(damaged.string()), std::string::npos) << s.message();
  std::ofstream(tmp_ / "tiny.json") << "{\"inputs\": [";
  s = backend_->Load(vmfb.string(), options_, &module);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
}

// Modules compiled elsewhere with external parameters (what scripts/gpu/fetch_iree_cuda.sh makes
// for the GPU machine): the load finds <model>-<precision>-b<batch>.vmfb and builds the weights
// from the ONNX file, so no compiler runs and the outputs are the compiled-here model's.
TEST_F(IreeTest, ModulesFolderTakesWeightsFromTheOnnxFile) {
  const fs::path dir = tmp_ / "modules";
  const std::string cmd = std::string(OPTIC_SOURCE_DIR) + "/.venv/bin/python " + OPTIC_SOURCE_DIR +
                          "/src/backends/iree/optic_iree_compile.py compile " + path_ + " " +
                          (dir / "tiny_cnn-fp32-b2.vmfb").string() +
                          " --target llvm-cpu --opt O2 --params external --shape input=2x3x32x32";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  fs::remove(dir / "tiny_cnn-fp32-b2.irpa");  // the weights come from the ONNX file
  std::unique_ptr<Model> compiled, prebuilt;
  ASSERT_TRUE(backend_->Load(path_, options_, &compiled).ok());
  LoadOptions with_modules = options_;
  with_modules.backend_options["modules"] = dir.string();
  with_modules.cache_dir = (tmp_ / "unused-cache").string();
  Status s = backend_->Load(path_, with_modules, &prebuilt);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(fs::exists(tmp_ / "unused-cache")) << "no compiler ran";
  EXPECT_EQ(prebuilt->inputs()[0].shape[0], -1);
  std::vector<Tensor> a, b;
  Run(compiled.get(), 2, 9, &a);
  Run(prebuilt.get(), 2, 9, &b);
  ASSERT_EQ(a[0].nbytes(), b[0].nbytes());
  EXPECT_EQ(0, std::memcmp(a[0].raw(), b[0].raw(), a[0].nbytes()));

  Tensor three;
  ASSERT_TRUE(MakeInput(model_->input, 3, 9, &three).ok());
  s = prebuilt->Execute({three}, &b);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.ToString();
  EXPECT_NE(s.message().find("tiny_cnn-fp32-b3.vmfb"), std::string::npos) << s.message();

  // A record whose parameters the ONNX file does not have (another graph) is a named error.
  const fs::path record = dir / "tiny_cnn-fp32-b2.json";
  nlohmann::json j = nlohmann::json::parse(std::ifstream(record));
  for (auto& p : j["param_map"]) p[3][0] = 7;
  std::ofstream(record) << j.dump();
  s = backend_->Load(path_, with_modules, &prebuilt);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("compiled from another graph"), std::string::npos) << s.message();
}

TEST_F(IreeTest, DifferentModelsExecuteAtOnce) {
  std::unique_ptr<Model> m1, m2;
  ASSERT_TRUE(backend_->Load(path_, options_, &m1).ok());
  ASSERT_TRUE(backend_->Load(path_, options_, &m2).ok());
  std::vector<Tensor> expected;
  Run(m1.get(), 4, 11, &expected);
  Run(m2.get(), 4, 11, &expected);  // both have the batch-4 module before the threads start
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

TEST_F(IreeTest, WrongShapeIsRefused) {
  std::unique_ptr<Model> model;
  ASSERT_TRUE(backend_->Load(path_, options_, &model).ok());
  Tensor bad = Tensor::EmptyOrDie(DType::kFP32, {1, 3, 5, 5});
  std::vector<Tensor> outs;
  Status s = model->Execute({bad}, &outs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("iree"), std::string::npos) << s.message();
  EXPECT_EQ(Modules().size(), 1u) << "a refused shape compiles nothing";
}

TEST_F(IreeTest, ErrorsNameBackendAndCause) {
  std::unique_ptr<Model> model;
  Status s = backend_->Load((tmp_ / "absent.onnx").string(), options_, &model);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("iree"), std::string::npos);

  const fs::path junk = tmp_ / "junk.onnx";
  std::ofstream(junk) << "this is not a protobuf";
  s = backend_->Load(junk.string(), options_, &model);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("iree"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(junk.string()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("not a valid ONNX model"), std::string::npos) << s.message();
  EXPECT_EQ(model, nullptr);

  // IREE imports DFT but cannot lower it: an unsupported load naming the operator.
  const fs::path dft = tmp_ / "dft.onnx";
  std::ofstream(dft, std::ios::binary) << OneOpModel("DFT", {1, 4, 1}, {1, 4, 2});
  s = backend_->Load(dft.string(), options_, &model);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.ToString();
  EXPECT_NE(s.message().find("operator DFT"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(dft.string()), std::string::npos) << s.message();
  EXPECT_EQ(model, nullptr);

  LoadOptions fp16 = options_;
  fp16.precision = Precision::kFP16;
  if (backend_->capabilities().devices.size() == 1) {
    s = backend_->Load(path_, fp16, &model);
    EXPECT_FALSE(s.ok()) << "fp16 is not offered on the cpu, so it must not run as fp32";
  }
  LoadOptions arch = options_;
  arch.backend_options["cuda_arch"] = "hopper";
  s = backend_->Load(path_, arch, &model);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_TRUE(Modules().empty()) << "nothing was compiled for a refused load";
}

}  // namespace
}  // namespace optic
