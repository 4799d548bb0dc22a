// The agreement measures of optic/parity.h on hand-made outputs whose answers are known, and the
// per-precision limits' verdicts.
#include <gtest/gtest.h>

#include <cmath>

#include "optic/parity.h"

namespace optic {
namespace {

// [n, classes] scores: a large shared vector plus, per sample, a bump on class (s * 7) % classes
// (every sample a different class, the shape of the zoo's random-weight logits).
Tensor Scores(int n, int classes, float bump = 1.0f) {
  Tensor t = Tensor::EmptyOrDie(DType::kFP32, {n, classes});
  for (int s = 0; s < n; ++s) {
    for (int k = 0; k < classes; ++k) {
      t.data<float>()[s * classes + k] = 10.0f + std::sin(0.37f * k) + (k == (s * 7) % classes ? bump : 0);
    }
  }
  return t;
}

TEST(Agreement, IdenticalOutputsAgreeFully) {
  Tensor ref = Scores(8, 20);
  TensorDiff d;
  Agreement a;
  ASSERT_TRUE(MeasureAgreement(ref, ref, &d, &a).ok());
  EXPECT_TRUE(a.class_scores);
  EXPECT_EQ(a.samples, 8);
  EXPECT_DOUBLE_EQ(a.cosine, 1.0);
  EXPECT_DOUBLE_EQ(a.top1, 1.0);
  EXPECT_DOUBLE_EQ(a.top5, 1.0);
  EXPECT_TRUE(ParityFailure(Precision::kBF16, d, a).empty());
}

TEST(Agreement, ShuffledSamplesFailThoughThePlainCosineIsNearOne) {
  const int n = 8, c = 20;
  Tensor ref = Scores(n, c), out = Tensor::EmptyOrDie(DType::kFP32, {n, c});
  for (int s = 0; s < n; ++s) {
    for (int k = 0; k < c; ++k) out.data<float>()[s * c + k] = ref.data<float>()[((s + 1) % n) * c + k];
  }
  TensorDiff d;
  Agreement a;
  ASSERT_TRUE(MeasureAgreement(out, ref, &d, &a).ok());
  EXPECT_LT(d.rel_l2, 0.1);   // the shared vector dominates every sample
  EXPECT_LT(a.cosine, 0.0);   // centred: every sample's own part points elsewhere
  EXPECT_DOUBLE_EQ(a.top1, 0.0);
  EXPECT_DOUBLE_EQ(a.top5, 0.0);
  const std::string why = ParityFailure(Precision::kBF16, d, a);
  EXPECT_NE(why.find("bf16: cosine"), std::string::npos) << why;
  EXPECT_NE(why.find("top-1 agreement 0 < 0.25"), std::string::npos) << why;
  EXPECT_NE(why.find("top-5 agreement 0 < 0.7"), std::string::npos) << why;
}

TEST(Agreement, TopFiveCountsTheReferencesTopOneAmongTheCandidatesFive) {
  const int n = 4, c = 12;
  Tensor ref = Scores(n, c, 5.0f), out;
  ASSERT_TRUE(ref.Clone(&out).ok());
  // Sample 0: four other classes above the reference's top-1 (still in the top 5).
  // Sample 1: five above it (out of the top 5).
  for (int k = 1; k <= 4; ++k) out.data<float>()[0 * c + k] += 20;
  for (int k = 0; k < 5; ++k) out.data<float>()[1 * c + (7 + 1 + k) % c] += 20;
  TensorDiff d;
  Agreement a;
  ASSERT_TRUE(MeasureAgreement(out, ref, &d, &a).ok());
  EXPECT_DOUBLE_EQ(a.top1, 0.5);
  EXPECT_DOUBLE_EQ(a.top5, 0.75);
}

TEST(Agreement, AWrongScaleFailsOnRelL2) {
  Tensor ref = Scores(8, 20), out;
  ASSERT_TRUE(ref.Clone(&out).ok());
  for (int64_t i = 0; i < out.numel(); ++i) out.data<float>()[i] *= 2;
  TensorDiff d;
  Agreement a;
  ASSERT_TRUE(MeasureAgreement(out, ref, &d, &a).ok());
  const std::string why = ParityFailure(Precision::kBF16, d, a);
  EXPECT_NE(why.find("rel_l2 1 > 0.25"), std::string::npos) << why;
}

TEST(Agreement, NotClassScoresOrOneSampleMeansNoTopKAndAPlainCosine) {
  Tensor ref = Tensor::EmptyOrDie(DType::kFP32, {1, 4, 3});
  ASSERT_TRUE(FillUniform(&ref, 3).ok());
  Tensor out;
  ASSERT_TRUE(ref.Clone(&out).ok());
  out.data<float>()[0] += 0.5f;
  TensorDiff d;
  Agreement a;
  ASSERT_TRUE(MeasureAgreement(out, ref, &d, &a).ok());
  EXPECT_FALSE(a.class_scores);
  EXPECT_GT(a.cosine, 0.9);
  EXPECT_LT(a.cosine, 1.0);
  Tensor one = Scores(1, 20);
  ASSERT_TRUE(MeasureAgreement(one, one, &d, &a).ok());
  EXPECT_FALSE(a.class_scores);  // one sample says nothing about agreement
}

TEST(Agreement, NonFiniteOutputsFailEveryPrecision) {
  Tensor ref = Scores(4, 20), out;
  ASSERT_TRUE(ref.Clone(&out).ok());
  out.data<float>()[3] = NAN;
  TensorDiff d;
  Agreement a;
  ASSERT_TRUE(MeasureAgreement(out, ref, &d, &a).ok());
  for (Precision p : {Precision::kFP32, Precision::kFP16, Precision::kBF16, Precision::kINT8}) {
    EXPECT_NE(ParityFailure(p, d, a).find("1 non-finite output(s)"), std::string::npos);
  }
}

TEST(Agreement, MergeWorstKeepsTheWorstOfEachOutput) {
  TensorDiff wd, d1{0.1, 0.01, 0.02, 0}, d2{0.05, 0.03, 0.01, 2};
  Agreement w, a1, a2;
  a1.cosine = 0.9;
  a2.cosine = 0.95;
  a2.class_scores = true;
  a2.top1 = 0.5;
  a2.top5 = 0.8;
  MergeWorst(d1, a1, &wd, &w);
  MergeWorst(d2, a2, &wd, &w);
  EXPECT_DOUBLE_EQ(wd.max_abs, 0.1);
  EXPECT_DOUBLE_EQ(wd.max_rel, 0.03);
  EXPECT_EQ(wd.nan_count, 2);
  EXPECT_DOUBLE_EQ(w.cosine, 0.9);
  EXPECT_TRUE(w.class_scores);
  EXPECT_DOUBLE_EQ(w.top1, 0.5);
}

TEST(CheckInput, ImagesAreSmoothDeterministicAndInRange) {
  TensorInfo info{"x", DType::kFP32, {-1, 3, 32, 32}};
  Tensor a, b;
  ASSERT_TRUE(MakeCheckInput(info, 4, 7, &a).ok());
  ASSERT_TRUE(MakeCheckInput(info, 4, 7, &b).ok());
  EXPECT_EQ(a.shape(), (Shape{4, 3, 32, 32}));
  double neighbour = 0, total = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const float v = a.data<float>()[i];
    ASSERT_EQ(v, b.data<float>()[i]);
    ASSERT_LE(std::fabs(v), 2.5f);
    total += v * v;
    if (i % 32 != 31) neighbour += v * a.data<float>()[i + 1];
  }
  // Neighbouring pixels are correlated, unlike MakeInput's independent noise.
  EXPECT_GT(neighbour / total, 0.5);
}

}  // namespace
}  // namespace optic
