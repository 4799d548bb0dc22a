#include <gtest/gtest.h>

#include "optic/registry.h"

namespace optic {
namespace {

std::unique_ptr<Backend> Null() {
  std::unique_ptr<Backend> b;
  EXPECT_TRUE(CreateBackend("null", &b).ok());
  return b;
}

TEST(LoadOptions, CommonKeysParse) {
  auto b = Null();
  LoadOptions o;
  ASSERT_TRUE(ParseLoadOption(*b, "threads=3", &o).ok());
  ASSERT_TRUE(ParseLoadOption(*b, "precision=bf16", &o).ok());
  ASSERT_TRUE(ParseLoadOption(*b, "batch_size=16", &o).ok());
  ASSERT_TRUE(ParseLoadOption(*b, "cache_dir=/tmp/c", &o).ok());
  ASSERT_TRUE(ParseLoadOption(*b, "device=cpu", &o).ok());
  EXPECT_EQ(o.threads, 3);
  EXPECT_EQ(o.precision, Precision::kBF16);
  EXPECT_EQ(o.batch_size, 16);
  EXPECT_EQ(o.cache_dir, "/tmp/c");
}

TEST(LoadOptions, BadValuesNameBackendAndKey) {
  auto b = Null();
  LoadOptions o;
  Status s = ParseLoadOption(*b, "threads=many", &o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("null"), std::string::npos);
  EXPECT_NE(s.message().find("threads"), std::string::npos);
  EXPECT_FALSE(ParseLoadOption(*b, "batch_size=0", &o).ok());
  EXPECT_FALSE(ParseLoadOption(*b, "precision=fp64", &o).ok());
  EXPECT_FALSE(ParseLoadOption(*b, "noequals", &o).ok());
  EXPECT_FALSE(ParseLoadOption(*b, "=x", &o).ok());
}

TEST(LoadOptions, BackendOptionsValidatedAgainstSpecs) {
  auto b = Null();
  LoadOptions o;
  EXPECT_TRUE(ParseLoadOption(*b, "fail=crash", &o).ok());
  EXPECT_TRUE(ParseLoadOption(*b, "delay_us=100", &o).ok());
  Status s = ParseLoadOption(*b, "fail=sometimes", &o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("none, error, crash, hang, oom"), std::string::npos);
  s = ParseLoadOption(*b, "delay_us=fast", &o);
  EXPECT_NE(s.message().find("integer"), std::string::npos);
  s = ParseLoadOption(*b, "colour=blue", &o);
  EXPECT_NE(s.message().find("unknown option 'colour'"), std::string::npos);
  EXPECT_NE(s.message().find("delay_us"), std::string::npos);  // lists the known keys
}

TEST(LoadOptions, ValidateChecksDeviceAndPrecision) {
  auto b = Null();
  LoadOptions o;
  EXPECT_TRUE(ValidateLoadOptions(*b, o).ok());
  o.device = Device{DeviceType::kCUDA, 0};
  EXPECT_EQ(ValidateLoadOptions(*b, o).code(), StatusCode::kUnsupported);
  o.device = Device{};
  o.precision = Precision::kTF32;
  Status s = ValidateLoadOptions(*b, o);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("tf32"), std::string::npos);
  o.precision = Precision::kFP32;
  o.backend_options["bogus"] = "1";
  EXPECT_EQ(ValidateLoadOptions(*b, o).code(), StatusCode::kInvalidArgument);
}

TEST(Precision, ParseAndName) {
  for (Precision p : {Precision::kFP32, Precision::kTF32, Precision::kFP16, Precision::kBF16,
                      Precision::kINT8}) {
    Precision q;
    ASSERT_TRUE(ParsePrecision(PrecisionName(p), &q).ok());
    EXPECT_EQ(p, q);
  }
}

TEST(Registry, UnknownBackendListsBuiltOnes) {
  std::unique_ptr<Backend> b;
  Status s = CreateBackend("tensorrt", &b);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("null"), std::string::npos);
  auto names = BackendNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "null"), names.end());
}

TEST(CheckInputs, NamesTheInputAndMismatch) {
  std::vector<TensorInfo> declared{{"input", DType::kFP32, {-1, 3, 4}}};
  Tensor ok = Tensor::EmptyOrDie(DType::kFP32, {5, 3, 4});
  EXPECT_TRUE(CheckInputs(declared, {ok}).ok());
  Tensor bad_shape = Tensor::EmptyOrDie(DType::kFP32, {5, 4, 3});
  Status s = CheckInputs(declared, {bad_shape});
  EXPECT_NE(s.message().find("'input'"), std::string::npos);
  EXPECT_NE(s.message().find("[-1, 3, 4]"), std::string::npos);
  Tensor bad_type = Tensor::EmptyOrDie(DType::kINT32, {5, 3, 4});
  EXPECT_NE(CheckInputs(declared, {bad_type}).message().find("int32"), std::string::npos);
  EXPECT_FALSE(CheckInputs(declared, {}).ok());
}

}  // namespace
}  // namespace optic
