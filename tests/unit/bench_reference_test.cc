// The sweep's reference outputs (bench/cell.h): the key they are cached under, the file format
// with integer outputs and per-check-batch parts, damaged files, and the comparison with a
// cell's outputs (integers exactly, varying row counts check batch by check batch).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bench/cell.h"
#include "optic/parity.h"

namespace optic::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Tensor Floats(Shape shape, float start) {
  Tensor t = Tensor::EmptyOrDie(DType::kFP32, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = start + 0.25f * static_cast<float>(i % 17);
  return t;
}

Tensor Ints(Shape shape, int64_t start) {
  Tensor t = Tensor::EmptyOrDie(DType::kINT64, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = start + i;
  return t;
}

// Two check batches of 2 of a [batch, 12] score output, an int64 label output [batch] and a
// detector-like [boxes, 4] output whose row count differs between batches.
CheckOutputs Sample() {
  CheckOutputs c;
  c.names = {"scores", "labels", "boxes"};
  c.parts = {{Floats({2, 12}, 1), Floats({2, 12}, 2)},
             {Ints({2}, 3), Ints({2}, 5)},
             {Floats({3, 4}, 0), Floats({5, 4}, 1)}};
  return c;
}

CheckOutputs Copy(const CheckOutputs& c) {
  CheckOutputs out = c;
  for (auto& parts : out.parts) {
    for (Tensor& t : parts) {
      Tensor owned;
      EXPECT_TRUE(t.Clone(&owned).ok());
      t = owned;
    }
  }
  return out;
}

class ReferenceFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("optic_ref_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    path_ = (dir_ / "r.ref").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string path_;
};

TEST_F(ReferenceFile, KeepsIntegerOutputsAndEveryCheckBatchAsGiven) {
  const CheckOutputs in = Sample();
  ASSERT_TRUE(WriteReference(path_, in, {{"key", {{"a", 1}}}}).ok());
  CheckOutputs out;
  json header;
  ASSERT_TRUE(ReadReference(path_, &out, &header).ok());
  EXPECT_EQ(header["key"], json({{"a", 1}}));
  EXPECT_EQ(header["format"], kReferenceFormat);
  EXPECT_EQ(out.names, in.names);
  ASSERT_EQ(out.parts.size(), 3u);
  EXPECT_EQ(out.parts[1][0].dtype(), DType::kINT64);
  EXPECT_EQ(out.parts[1][1].data<int64_t>()[1], 6);
  EXPECT_EQ(out.parts[2][1].shape(), (Shape{5, 4}));
  TensorDiff d;
  Agreement a;
  std::vector<std::string> mismatches;
  ASSERT_TRUE(CompareCheckOutputs(out, in, 2, &d, &a, &mismatches).ok());
  EXPECT_TRUE(mismatches.empty());
  EXPECT_EQ(d.max_abs, 0);
  EXPECT_EQ(a.int_elements, 4);
  EXPECT_EQ(a.int_mismatches, 0);
  EXPECT_TRUE(a.class_scores);  // the [batch, 12] output joined over both check batches
  EXPECT_EQ(a.samples, 4);
  EXPECT_TRUE(ParityFailure(Precision::kFP32, d, a).empty());
}

TEST_F(ReferenceFile, DamagedOrOldFilesAreErrorsThatSayWhat) {
  ASSERT_TRUE(WriteReference(path_, Sample(), {}).ok());
  CheckOutputs out;
  {
    const auto size = fs::file_size(path_);
    fs::resize_file(path_, size - 3);
    const Status s = ReadReference(path_, &out);
    EXPECT_NE(s.ToString().find("is truncated"), std::string::npos) << s.ToString();
  }
  {
    std::ofstream(path_) << "{not json\n";
    const Status s = ReadReference(path_, &out);
    EXPECT_NE(s.ToString().find("has a bad header"), std::string::npos) << s.ToString();
  }
  {
    // A file of the earlier layout: fp32 values only, no format.
    std::ofstream(path_) << R"({"outputs":[{"shape":[2,3]}]})" << "\n" << std::string(24, '\0');
    const Status s = ReadReference(path_, &out);
    EXPECT_NE(s.ToString().find("has format 0, not 2: delete it"), std::string::npos) << s.ToString();
  }
  {
    std::ofstream(path_) << R"({"format":2,"outputs":[{"dtype":"int3","parts":[[2]]}]})" << "\n";
    EXPECT_FALSE(ReadReference(path_, &out).ok());
  }
  EXPECT_EQ(ReadReference((dir_ / "none.ref").string(), &out).code(), StatusCode::kNotFound);
}

TEST(CompareCheckOutputs, IntegerOutputsAreComparedExactly) {
  const CheckOutputs ref = Sample();
  CheckOutputs out = Copy(ref);
  out.parts[1][1].data<int64_t>()[0] += 1;  // one label of four differs
  TensorDiff d;
  Agreement a;
  std::vector<std::string> mismatches;
  ASSERT_TRUE(CompareCheckOutputs(out, ref, 2, &d, &a, &mismatches).ok());
  EXPECT_EQ(a.int_mismatches, 1);
  EXPECT_EQ(d.rel_l2, 0);  // integers never enter the float measures
  EXPECT_EQ(ParityFailure(Precision::kFP32, d, a), "fp32: 1 of 4 integer output elements differ");
  // Reduced precisions: the share of equal elements against the top-1 limit (bf16: 0.25).
  EXPECT_TRUE(ParityFailure(Precision::kBF16, d, a).empty());
  out.parts[1][0].data<int64_t>()[0] += 1;
  out.parts[1][0].data<int64_t>()[1] += 1;
  out.parts[1][1].data<int64_t>()[1] += 1;
  ASSERT_TRUE(CompareCheckOutputs(out, ref, 2, &d, &a, &mismatches).ok());
  EXPECT_EQ(ParityFailure(Precision::kBF16, d, a), "bf16: integer outputs 0 equal < 0.25");
}

TEST(CompareCheckOutputs, ACheckBatchOfOtherRowsIsAMismatchNotAnError) {
  const CheckOutputs ref = Sample();
  CheckOutputs out = Copy(ref);
  out.parts[2][1] = Floats({4, 4}, 1);  // one box fewer in the second image
  TensorDiff d;
  Agreement a;
  std::vector<std::string> mismatches;
  ASSERT_TRUE(CompareCheckOutputs(out, ref, 2, &d, &a, &mismatches).ok());
  ASSERT_EQ(mismatches.size(), 1u);
  EXPECT_EQ(mismatches[0], "output 'boxes': 1 of 2 check batches differ in shape (first: check batch 1 "
                           "[4, 4], the reference [5, 4])");
  EXPECT_EQ(d.max_abs, 0);  // the batch of equal shape agrees
}

TEST(CompareCheckOutputs, StructuralDifferencesAreErrors) {
  const CheckOutputs ref = Sample();
  TensorDiff d;
  Agreement a;
  std::vector<std::string> mismatches;
  CheckOutputs out = Copy(ref);
  out.parts.pop_back();
  EXPECT_NE(CompareCheckOutputs(out, ref, 2, &d, &a, &mismatches).ToString().find("the reference has 3 outputs, this model 2"),
            std::string::npos);
  out = Copy(ref);
  out.parts[1] = {Floats({2}, 3), Floats({2}, 5)};
  EXPECT_NE(CompareCheckOutputs(out, ref, 2, &d, &a, &mismatches).ToString().find("output 'labels': dtype fp32 differs from reference int64"),
            std::string::npos);
}

TEST(CompareCheckOutputs, AnOutputOfAnotherShapeFailsNamingBothShapes) {
  const CheckOutputs ref = Sample();
  CheckOutputs out = Copy(ref);
  out.parts[0] = {Floats({2, 10}, 1), Floats({2, 10}, 2)};
  TensorDiff d;
  Agreement a;
  std::vector<std::string> mismatches;
  ASSERT_TRUE(CompareCheckOutputs(out, ref, 2, &d, &a, &mismatches).ok());
  ASSERT_EQ(mismatches.size(), 1u);
  EXPECT_EQ(mismatches[0], "output 'scores': 2 of 2 check batches differ in shape (first: check batch 0 "
                           "[2, 10], the reference [2, 12])");
}

TEST(ReferenceKey, ChangesWithWhatChangesTheOutputsAndSurvivesTheTripToTheChild) {
  CellSpec c;
  c.kind = CellKind::kReference;
  c.model = "/m/dense.onnx";
  c.source_sha256 = std::string(64, 'a');
  c.backend = "onnxruntime";
  c.batch_size = 1;
  c.inputs.shapes["image"] = {1, 3, 320, 320};
  const json key = ReferenceKey(c);
  CellSpec back;
  ASSERT_TRUE(CellFromJson(CellToJson(c), &back).ok());
  EXPECT_EQ(ReferenceKey(back), key);

  CellSpec other = c;
  other.inputs.shapes["image"] = {1, 3, 512, 512};
  EXPECT_NE(ReferenceKey(other), key);
  other = c;
  other.inputs.ranges["ids"] = {0, 9};
  EXPECT_NE(ReferenceKey(other), key);
  other = c;
  other.batch_size = 2;
  EXPECT_NE(ReferenceKey(other), key);
  other = c;
  other.source_sha256 = std::string(64, 'b');
  EXPECT_NE(ReferenceKey(other), key);
  other = c;
  other.converted_by = "onnx2torch 1.5.15";
  EXPECT_NE(ReferenceKey(other), key);
  other = c;
  other.settings.check_seed += 1;
  EXPECT_NE(ReferenceKey(other), key);
  // Moving the file keeps its reference: a file is known by its content.
  other = c;
  other.model = "/elsewhere/dense.onnx";
  EXPECT_EQ(ReferenceKey(other), key);
}

}  // namespace
}  // namespace optic::bench
