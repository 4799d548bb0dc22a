// The optic executable on bad input: every error names the backend, the file and the reason,
// and the exit status is non-zero.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>
#include <sys/wait.h>
#include <thread>

#include <nlohmann/json.hpp>

#include "optic/registry.h"

namespace optic {
namespace {

struct Result {
  int exit_code = -1;
  std::string output;
};

Result RunOptic(const std::string& args) {
  const std::string cmd = std::string(OPTIC_BINARY_DIR) + "/optic " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return r;
}

class CliErrors : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("optic-cli-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Corrupt(const std::string& ext) {
    const auto path = (dir_ / ("corrupt" + ext)).string();
    std::ofstream(path) << "this is not a model file";
    return path;
  }
  std::filesystem::path dir_;
};

std::string ExtensionOf(const std::string& backend) {
  std::unique_ptr<Backend> b;
  EXPECT_TRUE(CreateBackend(backend, &b).ok());
  return b->capabilities().file_extensions.at(0);
}

TEST_P(CliErrors, MissingFile) {
  const std::string path = (dir_ / ("absent" + ExtensionOf(GetParam()))).string();
  Result r = RunOptic("predict --backend " + GetParam() + " --file " + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(GetParam()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(path), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("NOT_FOUND"), std::string::npos) << r.output;
}

TEST_P(CliErrors, WrongFileContents) {
  if (GetParam() == "null") GTEST_SKIP() << "the null backend ignores file contents by design";
  const std::string path = Corrupt(ExtensionOf(GetParam()));
  Result r = RunOptic("predict --backend " + GetParam() + " --file " + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(GetParam() + ": cannot load '" + path + "'"), std::string::npos)
      << r.output;
}

TEST_P(CliErrors, UnsupportedPrecision) {
  std::unique_ptr<Backend> b;
  ASSERT_TRUE(CreateBackend(GetParam(), &b).ok());
  const auto precs = b->capabilities().precisions;
  std::string missing;
  for (const char* p : {"tf32", "fp16", "bf16", "int8"}) {
    Precision q;
    ASSERT_TRUE(ParsePrecision(p, &q).ok());
    if (std::find(precs.begin(), precs.end(), q) == precs.end()) { missing = p; break; }
  }
  if (missing.empty()) GTEST_SKIP() << GetParam() << " supports every precision on this machine";
  const std::string path = Corrupt(ExtensionOf(GetParam()));
  Result r = RunOptic("predict --backend " + GetParam() + " --file " + path + " -o precision=" + missing);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("UNSUPPORTED"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("precision " + missing), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(path), std::string::npos) << r.output;
}

TEST_P(CliErrors, BadOption) {
  Result r = RunOptic("predict --backend " + GetParam() + " --file x -o no_such_option=1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(GetParam() + ": unknown option 'no_such_option'"), std::string::npos)
      << r.output;
  r = RunOptic("predict --backend " + GetParam() + " --file x -o threads=-3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("threads"), std::string::npos) << r.output;
}

INSTANTIATE_TEST_SUITE_P(AllBackends, CliErrors, ::testing::ValuesIn(BackendNames()));

TEST(Cli, UnknownBackendAndModel) {
  Result r = RunOptic("predict --backend tensorrt --file x.plan");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown backend 'tensorrt'"), std::string::npos) << r.output;
  r = RunOptic("parity --model no_such_model --models-dir " + std::string(OPTIC_TEST_MODELS));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("no_such_model"), std::string::npos) << r.output;
}

// optic load over gRPC with nothing to reach says why, before any stage: no server at the address
// (a build with gRPC), or that this optic was built without gRPC (no server build).
TEST(Cli, LoadGrpcNamesTheAddressOrTheMissingBuild) {
  // The subcommand list names serve only in a build with the server (and so with gRPC).
  const bool has_grpc = RunOptic("--help").output.find("\n  serve ") != std::string::npos;
  const std::string stage = " --model m --url 127.0.0.1:9 --duration-s 0.1 --warmup-s 0";
  Result r = RunOptic("load --protocol grpc" + stage);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(has_grpc ? "no KServe gRPC server answers at 127.0.0.1:9"
                                   : "--protocol grpc: this optic was built without gRPC"),
            std::string::npos)
      << r.output;
  r = RunOptic("load --protocol http" + stage);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("http://127.0.0.1:9/v2/models/m"), std::string::npos) << r.output;
}

// Bad numbers on the command line are usage errors (exit 2) naming the flag and the value,
// found before anything runs or connects; never an uncaught exception or a silent default.
TEST(Cli, BadNumbersNameTheFlagAndValue) {
  const std::string load = "load --model m --url 127.0.0.1:9 --duration-s 0.1 --warmup-s 0 ";
  const std::string bench = "bench --models null --backends null --list ";
  const std::vector<std::array<std::string, 3>> cases = {
      {load + "--concurrency 1,x", "--concurrency", "'x'"},
      {load + "--concurrency 1,0", "--concurrency", "0"},
      {load + "--concurrency 99999999999999999999", "--concurrency", "99999999999999999999"},
      {load + "--rate 1,abc", "--rate", "'abc'"},
      {load + "--rate -5", "--rate", "-5"},
      {load + "--rate 0", "--rate", "0"},
      {"load --model m --duration-s -1", "--duration-s", "-1"},
      {bench + "--duration-s -1", "--duration-s", "-1"},
      {bench + "--duration-s 0", "--duration-s", "0"},
      {bench + "--duration-s abc", "--duration-s", "abc"},
      {bench + "--max-duration-s -2", "--max-duration-s", "-2"},
      {bench + "--timeout-s 0", "--timeout-s", "0"},
      {bench + "--warmup-ms -5", "--warmup-ms", "-5"},
      {bench + "--warmup-runs -1", "--warmup-runs", "-1"},
      {bench + "--min-samples 0", "--min-samples", "0"},
      {bench + "--qps -3", "--qps", "-3"},
      {bench + "--qps 0", "--qps", "0"},
      {bench + "--p99-bound-ms -1", "--p99-bound-ms", "-1"},
      {bench + "--max-queue-delay-ms -1", "--max-queue-delay-ms", "-1"},
      {bench + "--pipeline-depth -2", "--pipeline-depth", "-2"},
      {bench + "--repeat 0", "--repeat", "0"},
      {bench + "--threads 2,x", "--threads", "'x'"},
      {bench + "--batch 1,0", "--batch", "'0'"},
  };
  for (const auto& [args, flag, value] : cases) {
    Result r = RunOptic(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(flag), std::string::npos) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(value), std::string::npos) << args << "\n" << r.output;
    EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << args << "\n" << r.output;
    EXPECT_EQ(r.output.find("Connection refused"), std::string::npos) << args << "\n" << r.output;
  }
}

std::vector<std::string> ListedBatches(const std::string& args) {
  Result r = RunOptic("bench --models null --backends null --precision fp32 --scenario offline --list " + args);
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = r.output.find("|b", pos)) != std::string::npos) {
    const size_t end = r.output.find('|', pos + 1);
    out.push_back(r.output.substr(pos + 2, end - pos - 2));
    pos = end;
  }
  return out;
}

// A batch range steps in powers of two, so its bounds must be powers of two; anything else would
// silently run sizes the user did not write.
TEST(Cli, BatchRangesRunWhatTheyName) {
  EXPECT_EQ(ListedBatches("--batch 1-8"), (std::vector<std::string>{"1", "2", "4", "8"}));
  EXPECT_EQ(ListedBatches("--batch 3,5"), (std::vector<std::string>{"3", "5"}));
  for (const char* bad : {"3-5", "1-48", "2-3"}) {
    Result r = RunOptic(std::string("bench --models null --backends null --list --batch ") + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.output;
    EXPECT_NE(r.output.find(std::string("'") + bad + "'"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("powers of two"), std::string::npos) << r.output;
  }
  Result r = RunOptic("bench --models null --backends null --list --batch 3-5");
  EXPECT_NE(r.output.find("3,4,5"), std::string::npos) << r.output;
  r = RunOptic("bench --models null --backends null --list --batch 4,4");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("more than once"), std::string::npos) << r.output;
}

// The default batch list is the one the sweep runs; --help and docs/bench.md say the same.
TEST(Cli, DefaultBatchListAgreesWithHelpAndDocs) {
  std::string list;
  for (const auto& b : ListedBatches("")) list += (list.empty() ? "" : ",") + b;
  ASSERT_FALSE(list.empty());
  Result help = RunOptic("bench --help");
  EXPECT_NE(help.output.find("default " + list + ")"), std::string::npos)
      << "default " << list << " not in:\n" << help.output;
  std::ifstream in(std::string(OPTIC_SOURCE_DIR) + "/docs/bench.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(doc.find("batch `" + list + "`"), std::string::npos) << "docs/bench.md lacks batch `" << list << "`";
}

// Backend options are checked against each backend's keys before any cell (or the reference
// cell) runs.
TEST(Cli, BenchBackendOptionTypoStopsBeforeAnyCell) {
  const auto dir = std::filesystem::temp_directory_path() / ("optic-cli-opt-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "rows.jsonl").string();
  Result r = RunOptic("bench --models null --backends null --batch 1 --scenario offline "
                      "--duration-s 0.1 --backend-option null:shap=3x8 --out " + out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("'shap'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("null"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("shape"), std::string::npos) << r.output;  // the accepted keys
  EXPECT_EQ(r.output.find("reference"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out) && std::filesystem::file_size(out) > 0) << r.output;
  r = RunOptic("bench --models null --backends null --batch 1 --scenario offline "
               "--backend-option null:fail=sometimes --list");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("sometimes"), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}

// A precision the file cannot run is refused, never replaced by the file's own precision.
TEST(Cli, OnnxRuntimeInt8NeedsAQuantizedFile) {
  std::unique_ptr<Backend> b;
  if (!CreateBackend("onnxruntime", &b).ok()) GTEST_SKIP() << "built without onnxruntime";
  const std::string fp32 = std::string(OPTIC_TEST_MODELS) + "/tiny_cnn/model.onnx";
  if (!std::filesystem::exists(fp32)) GTEST_SKIP() << fp32 << " not exported";
  Result r = RunOptic("predict --backend onnxruntime --file " + fp32 + " -o precision=int8");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("UNSUPPORTED"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(fp32), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--formats onnx-int8"), std::string::npos) << r.output;
  EXPECT_EQ(RunOptic("predict --backend onnxruntime --file " + fp32).exit_code, 0);
  // The quantized file runs at int8 and is refused at fp32.
  const auto dir = std::filesystem::temp_directory_path() / ("optic-int8-" + std::to_string(getpid()));
  const std::string cmd = std::string(OPTIC_BINARY_DIR) + "/optic models export --models tiny_cnn "
                          "--formats onnx-int8 --out " + dir.string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string int8 = (dir / "tiny_cnn" / "model.int8.onnx").string();
  r = RunOptic("predict --backend onnxruntime --file " + int8 + " -o precision=int8");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunOptic("predict --backend onnxruntime --file " + int8);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("precision=int8"), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}

TEST(Cli, ManifestPrintsHostAndEveryBackendVersion) {
  Result r = RunOptic("manifest 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json m = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_TRUE(m.is_object()) << r.output;
  EXPECT_EQ(m["host"]["cores"], std::thread::hardware_concurrency());
  EXPECT_TRUE(m["host"]["kernel"].is_string());
  EXPECT_GT(m["host"]["memory_gb"].get<double>(), 0);
  for (const auto& name : BackendNames()) EXPECT_TRUE(m["versions"].contains(name)) << name;
  EXPECT_TRUE(m["versions"]["optic"].is_string());

  const auto path = std::filesystem::temp_directory_path() / ("optic-manifest-" + std::to_string(getpid()));
  r = RunOptic("manifest --out " + path.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(path);
  EXPECT_EQ(nlohmann::json::parse(f)["host"], m["host"]);
  std::filesystem::remove(path);

  r = RunOptic("manifest --out /nonexistent-optic-dir/manifest.json");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/nonexistent-optic-dir/manifest.json"), std::string::npos) << r.output;
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* cmd : {"backends", "manifest", "models", "parity", "predict"}) {
    Result r = RunOptic(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << cmd;
  }
}

}  // namespace
}  // namespace optic
