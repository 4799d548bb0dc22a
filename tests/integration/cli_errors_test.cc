// The optic executable on bad input: every error names the backend, the file and the reason,
// and the exit status is non-zero.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

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

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* cmd : {"backends", "models", "parity", "predict"}) {
    Result r = RunOptic(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << cmd;
  }
}

}  // namespace
}  // namespace optic
