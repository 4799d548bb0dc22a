#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "optic/tensor.h"

namespace optic {
namespace {

TEST(Tensor, EmptyOwnsAlignedMemory) {
  Tensor t;
  ASSERT_TRUE(Tensor::Empty(DType::kFP32, {2, 3, 4}, &t).ok());
  EXPECT_TRUE(t.owning());
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.nbytes(), 96u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
  EXPECT_EQ(t.DebugString(), "fp32[2, 3, 4] cpu owning");
}

TEST(Tensor, NegativeDimensionIsRejected) {
  Tensor t;
  Status s = Tensor::Empty(DType::kFP32, {2, -1}, &t);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("[2, -1]"), std::string::npos);
}

TEST(Tensor, CopiesShareBytesCloneDoesNot) {
  Tensor a = Tensor::EmptyOrDie(DType::kINT32, {4});
  for (int i = 0; i < 4; ++i) a.data<int32_t>()[i] = i;
  Tensor b = a;
  b.data<int32_t>()[0] = 42;
  EXPECT_EQ(a.data<int32_t>()[0], 42);
  Tensor c;
  ASSERT_TRUE(a.Clone(&c).ok());
  c.data<int32_t>()[1] = 7;
  EXPECT_EQ(a.data<int32_t>()[1], 1);
}

TEST(Tensor, BorrowDoesNotOwn) {
  float buf[6] = {1, 2, 3, 4, 5, 6};
  Tensor t = Tensor::Borrow(buf, DType::kFP32, {2, 3});
  EXPECT_FALSE(t.owning());
  EXPECT_EQ(t.data<float>(), buf);
}

TEST(Tensor, SliceIsAViewAndChecksRange) {
  Tensor t = Tensor::EmptyOrDie(DType::kFP32, {4, 2});
  for (int i = 0; i < 8; ++i) t.data<float>()[i] = static_cast<float>(i);
  Tensor s;
  ASSERT_TRUE(t.Slice(1, 3, &s).ok());
  EXPECT_EQ(s.shape(), (Shape{2, 2}));
  EXPECT_EQ(s.data<float>()[0], 2.0f);
  EXPECT_EQ(s.data<float>(), t.data<float>() + 2);
  EXPECT_EQ(t.Slice(3, 5, &s).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.Slice(2, 1, &s).code(), StatusCode::kInvalidArgument);
}

TEST(Tensor, SliceKeepsParentAlive) {
  Tensor view;
  {
    Tensor t = Tensor::EmptyOrDie(DType::kFP32, {2, 2});
    t.data<float>()[3] = 9.0f;
    ASSERT_TRUE(t.Slice(1, 2, &view).ok());
  }
  EXPECT_EQ(view.data<float>()[1], 9.0f);  // still valid: the holder moved with the view
}

TEST(Tensor, ReshapeKeepsElementCount) {
  Tensor t = Tensor::EmptyOrDie(DType::kUINT8, {2, 6});
  Tensor r;
  EXPECT_TRUE(t.Reshape({3, 4}, &r).ok());
  EXPECT_EQ(t.Reshape({5}, &r).code(), StatusCode::kInvalidArgument);
}

TEST(DType, NamesRoundTrip) {
  for (DType d : {DType::kFP32, DType::kFP16, DType::kBF16, DType::kINT8, DType::kUINT8,
                  DType::kINT32, DType::kINT64}) {
    DType parsed;
    ASSERT_TRUE(ParseDType(DTypeName(d), &parsed).ok());
    EXPECT_EQ(parsed, d);
    ASSERT_TRUE(ParseDType(DTypeKServeName(d), &parsed).ok());
    EXPECT_EQ(parsed, d);
  }
  DType d;
  Status s = ParseDType("fp8", &d);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("fp8"), std::string::npos);
  EXPECT_EQ(DTypeSize(DType::kBF16), 2u);
  EXPECT_EQ(DTypeSize(DType::kINT64), 8u);
}


TEST(Half, KnownValues) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(1e6f), 0x7c00);                       // overflow -> inf
  EXPECT_EQ(FloatToHalf(5.960464477539063e-08f), 0x0001);     // smallest subnormal
  EXPECT_EQ(HalfToFloat(0x0001), 5.960464477539063e-08f);
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(FloatToHalf(1.0f + 1.0f / 2048), 0x3c00);          // tie rounds to even
  EXPECT_EQ(FloatToHalf(1.0f + 3.0f / 2048), 0x3c02);
}

TEST(Half, RoundTripAllHalves) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToHalf(f), h) << "half 0x" << std::hex << h;
  }
}

TEST(BFloat16, RoundsToNearestEven) {
  EXPECT_EQ(FloatToBFloat16(1.0f), 0x3f80);
  EXPECT_EQ(BFloat16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(FloatToBFloat16(1.0f + 1.0f / 256), 0x3f80);  // tie -> even
  EXPECT_EQ(FloatToBFloat16(1.0f + 3.0f / 256), 0x3f82);
}

TEST(Tensor, ConvertBetweenFloatTypes) {
  Tensor t = Tensor::EmptyOrDie(DType::kFP32, {3});
  t.data<float>()[0] = 0.5f;
  t.data<float>()[1] = -3.25f;
  t.data<float>()[2] = 1000.0f;
  Tensor h, back;
  ASSERT_TRUE(t.ConvertTo(DType::kFP16, &h).ok());
  ASSERT_TRUE(h.ConvertTo(DType::kFP32, &back).ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(back.data<float>()[i], t.data<float>()[i]);
  Tensor i8;
  EXPECT_EQ(t.ConvertTo(DType::kINT8, &i8).code(), StatusCode::kUnsupported);
}

TEST(FillUniform, DeterministicAndInRange) {
  Tensor a = Tensor::EmptyOrDie(DType::kFP32, {1000});
  Tensor b = Tensor::EmptyOrDie(DType::kFP32, {1000});
  ASSERT_TRUE(FillUniform(&a, 7, -2, 2).ok());
  ASSERT_TRUE(FillUniform(&b, 7, -2, 2).ok());
  double sum = 0;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(a.data<float>()[i], b.data<float>()[i]);
    EXPECT_GE(a.data<float>()[i], -2.0f);
    EXPECT_LT(a.data<float>()[i], 2.0f);
    sum += a.data<float>()[i];
  }
  EXPECT_NEAR(sum / 1000, 0.0, 0.15);
  ASSERT_TRUE(FillUniform(&b, 8, -2, 2).ok());
  EXPECT_NE(a.data<float>()[0], b.data<float>()[0]);
}

TEST(CompareTensors, RelativeToReferenceMagnitude) {
  Tensor ref = Tensor::EmptyOrDie(DType::kFP32, {3});
  Tensor out = Tensor::EmptyOrDie(DType::kFP32, {3});
  const float r[3] = {10, -20, 0};
  const float o[3] = {10.5f, -20, 0.1f};
  for (int i = 0; i < 3; ++i) { ref.data<float>()[i] = r[i]; out.data<float>()[i] = o[i]; }
  TensorDiff d;
  ASSERT_TRUE(CompareTensors(out, ref, &d).ok());
  EXPECT_DOUBLE_EQ(d.max_abs, 0.5);
  EXPECT_DOUBLE_EQ(d.max_rel, 0.5 / 20);
  EXPECT_NEAR(d.rel_l2, std::sqrt(0.25 + 0.01) / std::sqrt(500.0), 1e-9);  // 0.1f is not exact
  EXPECT_EQ(d.nan_count, 0);
  out.data<float>()[2] = std::numeric_limits<float>::quiet_NaN();
  ASSERT_TRUE(CompareTensors(out, ref, &d).ok());
  EXPECT_EQ(d.nan_count, 1);
  Tensor other = Tensor::EmptyOrDie(DType::kFP32, {4});
  EXPECT_EQ(CompareTensors(other, ref, &d).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace optic
