// The server's JPEG-in stage and bench's e2e cells preprocess alike: for the same model input
// they derive the same options (optic/preprocess.h, PreprocessOptionsForInput) and write
// bit-identical batches from the same JPEGs, square and non-square images and model inputs,
// NCHW and NHWC, fp32 and fp16; a damaged JPEG fails alone on both paths.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "bench/e2e_cell.h"
#include "preprocess_testing.h"
#include "server/model_config.h"
#include "server/preprocess_stage.h"

namespace optic {
namespace {

struct Image {
  std::string name;
  std::string bytes;
};

std::vector<Image> Jpegs() {
  std::vector<Image> out;
  const int sizes[][2] = {{640, 480}, {480, 640}, {224, 224}, {1000, 250}, {333, 517}, {100, 90}};
  uint32_t seed = 3;
  for (const auto& wh : sizes) {
    const auto px = testing::MakeRgb(wh[0], wh[1], testing::Pattern::kMixed, seed++);
    const auto jpeg = testing::EncodeJpeg(px, wh[0], wh[1], TJPF_RGB, TJSAMP_420, 90);
    out.push_back({std::to_string(wh[0]) + "x" + std::to_string(wh[1]),
                   std::string(jpeg.begin(), jpeg.end())});
  }
  return out;
}

// The server's path: a JPEG-in config on a model with input `in`, its stage run on one request
// per image, as the batcher hands a merged batch to it.
void ServerBatch(const TensorInfo& in, const std::vector<Image>& images, PreprocessOptions* options,
                 Tensor* batch, std::vector<Status>* failures) {
  inference::ModelConfig config;
  config.set_max_batch_size(16);
  config.mutable_optic_preprocessing()->set_input("image");
  server::ImagePreprocessing p;
  ASSERT_TRUE(server::ImagePreprocessingFromConfig(config, {in}, &p).ok());
  *options = p.options;
  std::unique_ptr<server::InputStage> stage;
  ASSERT_TRUE(server::CreateImageStage(p, &stage).ok());
  std::vector<std::unique_ptr<server::InferRequest>> requests;
  for (const Image& im : images) {
    auto r = std::make_unique<server::InferRequest>();
    r->rows = 1;
    r->bytes.push_back({{1, 1}, {std::string_view(im.bytes)}, nullptr});
    requests.push_back(std::move(r));
  }
  std::vector<Tensor> inputs;
  failures->assign(images.size(), Status::OK());
  ASSERT_TRUE(stage->Prepare(requests, &inputs, failures).ok());
  ASSERT_EQ(inputs.size(), 1u);
  *batch = inputs[0];
}

// Bench's e2e path: the cell's options for the model's inputs and a CPU preprocessor.
void BenchBatch(const TensorInfo& in, const std::vector<Image>& images, PreprocessOptions* options,
                Tensor* batch, std::vector<ImageResult>* results) {
  ASSERT_TRUE(bench::E2EPreprocessOptions({in}, 2, options).ok());
  std::unique_ptr<Preprocessor> pp;
  ASSERT_TRUE(CreatePreprocessor(*options, Device{}, &pp).ok());
  ASSERT_TRUE(pp->AllocateBatch(static_cast<int64_t>(images.size()), batch).ok());
  std::vector<ImageInput> inputs;
  for (const Image& im : images) {
    inputs.push_back({im.name, reinterpret_cast<const uint8_t*>(im.bytes.data()), im.bytes.size()});
  }
  ASSERT_TRUE(pp->Run(inputs, batch, results).ok());
}

struct Case {
  const char* what;
  TensorInfo input;
  int resize_shorter;  // round(max(H, W) * 256 / 224)
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.what; }

class PreprocessAgrees : public ::testing::TestWithParam<Case> {};

TEST_P(PreprocessAgrees, ServerStageAndBenchE2EWriteIdenticalBatches) {
  const Case& c = GetParam();
  std::vector<Image> images = Jpegs();
  // A damaged JPEG among them: both paths fail it alone.
  const size_t bad = 2;
  images.insert(images.begin() + bad, {"truncated", images[0].bytes.substr(0, images[0].bytes.size() / 2)});

  PreprocessOptions so, bo;
  Tensor server, bench_batch;
  std::vector<Status> failures;
  std::vector<ImageResult> results;
  ServerBatch(c.input, images, &so, &server, &failures);
  BenchBatch(c.input, images, &bo, &bench_batch, &results);
  if (HasFatalFailure()) return;

  EXPECT_EQ(so.resize_shorter, c.resize_shorter);
  EXPECT_EQ(bo.resize_shorter, c.resize_shorter);
  EXPECT_EQ(so.crop_height, bo.crop_height);
  EXPECT_EQ(so.crop_width, bo.crop_width);
  EXPECT_EQ(so.layout, bo.layout);
  EXPECT_EQ(so.dtype, bo.dtype);
  EXPECT_EQ(so.filter, bo.filter);
  EXPECT_EQ(so.dct_scaling, bo.dct_scaling);
  EXPECT_EQ(so.mean, bo.mean);
  EXPECT_EQ(so.std, bo.std);
  EXPECT_EQ(so.scale, bo.scale);
  Shape want = c.input.shape;
  want[0] = static_cast<int64_t>(images.size());
  EXPECT_EQ(bench_batch.shape(), want);

  ASSERT_FALSE(failures[bad].ok());
  ASSERT_FALSE(results[bad].status.ok());
  EXPECT_NE(failures[bad].message().find("truncated"), std::string::npos) << failures[bad].message();
  // The server drops the failed request's row; every other row is the bench row, bit for bit.
  ASSERT_EQ(server.shape()[0], static_cast<int64_t>(images.size() - 1));
  const size_t row = bench_batch.nbytes() / images.size();
  size_t s = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    if (i == bad) continue;
    ASSERT_TRUE(failures[i].ok()) << images[i].name << ": " << failures[i].ToString();
    ASSERT_TRUE(results[i].status.ok()) << images[i].name << ": " << results[i].status.ToString();
    EXPECT_EQ(std::memcmp(static_cast<const char*>(server.raw()) + s * row,
                          static_cast<const char*>(bench_batch.raw()) + i * row, row), 0)
        << c.what << ", image " << images[i].name;
    ++s;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, PreprocessAgrees,
    ::testing::Values(Case{"nchw_224", {"x", DType::kFP32, {-1, 3, 224, 224}}, 256},
                      Case{"nchw_224x320", {"x", DType::kFP32, {-1, 3, 224, 320}}, 366},
                      Case{"nhwc_288x160", {"x", DType::kFP32, {-1, 288, 160, 3}}, 329},
                      Case{"nchw_fp16_299", {"x", DType::kFP16, {-1, 3, 299, 299}}, 342}),
    [](const auto& info) { return std::string(info.param.what); });

// Inputs preprocessing cannot fill are refused by the one rule, and each caller says whose.
TEST(PreprocessOptionsForInput, RefusesInputsItCannotFill) {
  const std::vector<std::pair<TensorInfo, std::string>> cases = {
      {{"img", DType::kFP32, {-1, 3, 224}}, "an image batch [N,3,H,W] or [N,H,W,3] is needed"},
      {{"img", DType::kFP32, {-1, 3, -1, -1}}, "fixed height and width"},
      {{"img", DType::kFP32, {-1, 3, 224, 3}}, "reads as NCHW and as NHWC: name its layout"},
      {{"img", DType::kINT8, {-1, 3, 224, 224}}, "preprocessing writes fp32 or fp16"},
      {{"img", DType::kFP32, {-1, 4, 224, 224}}, "an image batch"},
  };
  for (const auto& [in, why] : cases) {
    PreprocessOptions o;
    o.resize_shorter = 7;
    Status s = PreprocessOptionsForInput(in, nullptr, &o);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported) << ShapeToString(in.shape);
    EXPECT_NE(s.message().find("'img'"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
    EXPECT_EQ(o.resize_shorter, 7) << "options changed on failure";
    PreprocessOptions bo;
    s = bench::E2EPreprocessOptions({in}, 1, &bo);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported);
    EXPECT_EQ(s.message().rfind("e2e: ", 0), 0u) << s.message();
    inference::ModelConfig config;
    config.set_max_batch_size(4);
    config.mutable_optic_preprocessing();
    server::ImagePreprocessing p;
    s = server::ImagePreprocessingFromConfig(config, {in}, &p);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("optic_preprocessing: "), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
  }
  // A layout the caller names settles [N,3,H,3]; one the dims contradict is refused.
  const TensorInfo both{"img", DType::kFP32, {-1, 3, 224, 3}};
  PreprocessOptions o;
  const Layout nchw = Layout::kNCHW, nhwc = Layout::kNHWC;
  ASSERT_TRUE(PreprocessOptionsForInput(both, &nhwc, &o).ok());
  EXPECT_EQ(o.crop_height, 3);
  EXPECT_EQ(o.crop_width, 224);
  const TensorInfo chw{"img", DType::kFP32, {-1, 3, 224, 224}};
  EXPECT_TRUE(PreprocessOptionsForInput(chw, &nchw, &o).ok());
  Status s = PreprocessOptionsForInput(chw, &nhwc, &o);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("not an RGB image in NHWC"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace optic
