// The predictor's batching and ordering, on a model that records what it saw.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "optic/predictor.h"

namespace optic {
namespace {

// Output row = input row + 1000 * (index of the batch it ran in). Fails on batch `fail_at`.
class RecordingModel : public Model {
 public:
  explicit RecordingModel(DType dtype = DType::kFP32, int fail_at = -1, int sleep_ms = 0)
      : in_{{"x", dtype, {-1, 2}}}, out_{{"y", DType::kFP32, {-1, 2}}}, fail_at_(fail_at),
        sleep_ms_(sleep_ms) {}
  const std::vector<TensorInfo>& inputs() const override { return in_; }
  const std::vector<TensorInfo>& outputs() const override { return out_; }
  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    OPTIC_RETURN_IF_ERROR(CheckInputs(in_, inputs));
    if (calls == fail_at_) return Status::Internal("planted failure");
    if (sleep_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    batch_sizes.push_back(inputs[0].dim(0));
    Tensor y = Tensor::EmptyOrDie(DType::kFP32, inputs[0].shape());
    for (int64_t i = 0; i < y.numel(); ++i) {
      y.data<float>()[i] = static_cast<float>(inputs[0].GetAsDouble(i)) + 1000.0f * calls;
    }
    ++calls;
    outputs->assign(1, y);
    return Status::OK();
  }
  int calls = 0;
  std::vector<int64_t> batch_sizes;

 private:
  std::vector<TensorInfo> in_, out_;
  int fail_at_, sleep_ms_;
};

Tensor Rows(int n) {
  Tensor t = Tensor::EmptyOrDie(DType::kFP32, {n, 2});
  for (int i = 0; i < 2 * n; ++i) t.data<float>()[i] = static_cast<float>(i);
  return t;
}

class PredictorTest : public ::testing::TestWithParam<bool> {};

TEST_P(PredictorTest, SplitsIntoBatchesInOrder) {
  RecordingModel model;
  std::unique_ptr<Predictor> p;
  ASSERT_TRUE(Predictor::Create(&model, {4, false, GetParam()}, &p).ok());
  Tensor y;
  ASSERT_TRUE(p->Predict(Rows(10), &y).ok());
  EXPECT_EQ(model.batch_sizes, (std::vector<int64_t>{4, 4, 2}));
  ASSERT_EQ(y.shape(), (Shape{10, 2}));
  for (int r = 0; r < 10; ++r) {
    for (int c = 0; c < 2; ++c) {
      const float expected = static_cast<float>(2 * r + c) + 1000.0f * (r / 4);
      EXPECT_EQ(y.data<float>()[2 * r + c], expected) << "row " << r;
    }
  }
  EXPECT_EQ(p->stats().batches, 3);
}

TEST_P(PredictorTest, PadsLastBatchAndDropsPadding) {
  RecordingModel model;
  std::unique_ptr<Predictor> p;
  ASSERT_TRUE(Predictor::Create(&model, {4, true, GetParam()}, &p).ok());
  Tensor y;
  ASSERT_TRUE(p->Predict(Rows(6), &y).ok());
  EXPECT_EQ(model.batch_sizes, (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(y.shape(), (Shape{6, 2}));
  EXPECT_EQ(y.data<float>()[11], 11.0f + 1000.0f);
  EXPECT_EQ(p->stats().padded_rows, 2);
}

TEST_P(PredictorTest, ConvertsToTheModelsDtype) {
  RecordingModel model(DType::kFP16);
  std::unique_ptr<Predictor> p;
  ASSERT_TRUE(Predictor::Create(&model, {3, false, GetParam()}, &p).ok());
  Tensor y;
  ASSERT_TRUE(p->Predict(Rows(5), &y).ok());
  EXPECT_EQ(y.data<float>()[9], 9.0f + 1000.0f);
}

TEST_P(PredictorTest, FailureNamesTheBatch) {
  RecordingModel model(DType::kFP32, /*fail_at=*/1);
  std::unique_ptr<Predictor> p;
  ASSERT_TRUE(Predictor::Create(&model, {2, false, GetParam()}, &p).ok());
  Tensor y;
  Status s = p->Predict(Rows(7), &y);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("batch 2 of 4 (rows 2..3)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("planted failure"), std::string::npos);
}

TEST_P(PredictorTest, SingleBatchFastPath) {
  RecordingModel model;
  std::unique_ptr<Predictor> p;
  ASSERT_TRUE(Predictor::Create(&model, {8, false, GetParam()}, &p).ok());
  Tensor y;
  ASSERT_TRUE(p->Predict(Rows(8), &y).ok());
  EXPECT_EQ(model.batch_sizes, (std::vector<int64_t>{8}));
}

INSTANTIATE_TEST_SUITE_P(Overlap, PredictorTest, ::testing::Bool());

TEST(Predictor, RejectsBadArguments) {
  RecordingModel model;
  std::unique_ptr<Predictor> p;
  EXPECT_EQ(Predictor::Create(nullptr, {}, &p).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Predictor::Create(&model, {0, false, true}, &p).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(Predictor::Create(&model, {2, false, true}, &p).ok());
  Tensor y;
  EXPECT_EQ(p->Predict(Rows(0), &y).code(), StatusCode::kInvalidArgument);
  Tensor wrong = Tensor::EmptyOrDie(DType::kFP32, {3, 5});
  EXPECT_EQ(p->Predict(wrong, &y).code(), StatusCode::kInvalidArgument);
}

// With overlap, staging batch i+1 runs while batch i executes: a slow model with many batches
// must not serialize a slow staging step (here dtype conversion of a large input).
TEST(Predictor, OverlapRunsStagingConcurrently) {
  RecordingModel model(DType::kFP16, -1, /*sleep_ms=*/5);
  std::unique_ptr<Predictor> p;
  ASSERT_TRUE(Predictor::Create(&model, {1, false, true}, &p).ok());
  Tensor y;
  ASSERT_TRUE(p->Predict(Rows(20), &y).ok());
  EXPECT_EQ(model.calls, 20);
  for (int r = 0; r < 20; ++r) EXPECT_EQ(y.data<float>()[2 * r], 2.0f * r + 1000.0f * r);
}

}  // namespace
}  // namespace optic
