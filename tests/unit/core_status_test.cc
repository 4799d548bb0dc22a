#include <gtest/gtest.h>

#include "optic/status.h"

namespace optic {
namespace {

Status Fails() { return Status::NotFound("no such file 'x.onnx'"); }
Status Chain(bool fail) {
  if (fail) OPTIC_RETURN_IF_ERROR(Fails());
  return Status::OK();
}

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s.HttpStatus(), 200);
}

TEST(Status, CodesMapToHttp) {
  EXPECT_EQ(Status::InvalidArgument("x").HttpStatus(), 400);
  EXPECT_EQ(Status::NotFound("x").HttpStatus(), 404);
  EXPECT_EQ(Status::Unavailable("x").HttpStatus(), 503);
  EXPECT_EQ(Status::Unsupported("x").HttpStatus(), 501);
  EXPECT_EQ(Status::UnsupportedHardware("x").HttpStatus(), 501);
  EXPECT_EQ(Status::Internal("x").HttpStatus(), 500);
  EXPECT_EQ(Status::OutOfMemory("x").HttpStatus(), 500);
}

TEST(Status, ReturnIfErrorPropagatesAndPrefixes) {
  EXPECT_TRUE(Chain(false).ok());
  Status s = Chain(true);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: no such file 'x.onnx'");
  Status p = s.Prefixed("onnxruntime");
  EXPECT_EQ(p.code(), StatusCode::kNotFound);
  EXPECT_EQ(p.message(), "onnxruntime: no such file 'x.onnx'");
  EXPECT_TRUE(Status::OK().Prefixed("x").ok());
}

}  // namespace
}  // namespace optic
