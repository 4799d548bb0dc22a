// The GPU preprocessor against the CPU one on the same images (label gpu; skips without a CUDA
// build or device). Stated tolerances:
//  - decoded pixels (identity geometry, raw 0..255 output): 4:4:4 baseline within 1 level of
//    libjpeg-turbo everywhere; 4:2:0 within 1 level for >= 99% of values (chroma upsampling may
//    differ at edges) and within 8 everywhere;
//  - full Resize(256)+CenterCrop(224)+normalize: mean |gpu - cpu| <= 0.25 level, max <= 2 levels
//    (CPU with dct_scaling off, since nvJPEG decodes at full size);
//  - bad input: the same images fail on both paths, with the image named.
#include <gtest/gtest.h>

#include <cmath>

#include "optic/preprocess.h"
#include "unit/preprocess_testing.h"

namespace optic {
namespace {

using testing::Pattern;

struct Diff {
  double mean = 0, max = 0, within1 = 0;  // in 8-bit levels
};

std::unique_ptr<Preprocessor> Make(const PreprocessOptions& o, Device d) {
  std::unique_ptr<Preprocessor> p;
  Status s = CreatePreprocessor(o, d, &p);
  if (!s.ok()) return nullptr;
  return p;
}

Status RunOn(Preprocessor* p, const std::vector<ImageInput>& in, Tensor* host, std::vector<ImageResult>* res) {
  Tensor batch;
  OPTIC_RETURN_IF_ERROR(p->AllocateBatch(static_cast<int64_t>(in.size()), &batch));
  OPTIC_RETURN_IF_ERROR(p->Run(in, &batch, res));
  return p->BatchToHost(batch, host);
}

Diff Compare(const Tensor& a, const Tensor& b, double level) {
  Diff d;
  int64_t ok = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double e = std::fabs(a.GetAsDouble(i) - b.GetAsDouble(i)) / level;
    d.mean += e;
    d.max = std::max(d.max, e);
    ok += e <= 1.0 + 1e-6;
  }
  d.mean /= a.numel();
  d.within1 = double(ok) / a.numel();
  return d;
}

class PreprocessCuda : public ::testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<Preprocessor> p;
    Status s = CreatePreprocessor(PreprocessOptions{}, Device{DeviceType::kCUDA, 0}, &p);
    if (!s.ok()) GTEST_SKIP() << "no GPU preprocessing here: " << s.ToString();
  }
};

TEST_F(PreprocessCuda, DecodedPixelsMatchLibjpegTurbo) {
  for (int subsamp : {TJSAMP_444, TJSAMP_420}) {
    for (int flags : {0, TJFLAG_PROGRESSIVE}) {
      const int w = 320, h = 240;
      auto jpg = testing::EncodeJpeg(testing::MakeRgb(w, h, Pattern::kMixed), w, h, TJPF_RGB, subsamp, 90, flags);
      PreprocessOptions o;  // identity geometry, raw levels out
      o.resize_shorter = 0;
      o.crop_width = w;
      o.crop_height = h;
      o.scale = 1.0f;
      o.mean = {0, 0, 0};
      o.std = {1, 1, 1};
      o.dct_scaling = false;
      auto cpu = Make(o, Device{});
      auto gpu = Make(o, Device{DeviceType::kCUDA, 0});
      ASSERT_TRUE(cpu && gpu);
      std::vector<ImageInput> in = {{"a.jpg", jpg.data(), jpg.size()}};
      Tensor hc, hg;
      std::vector<ImageResult> rc, rg;
      ASSERT_TRUE(RunOn(cpu.get(), in, &hc, &rc).ok());
      ASSERT_TRUE(RunOn(gpu.get(), in, &hg, &rg).ok());
      ASSERT_TRUE(rg[0].status.ok()) << rg[0].status.ToString();
      Diff d = Compare(hg, hc, 1.0);
      std::printf("subsamp %d flags %d: mean %.3f max %.1f within1 %.4f fallback %d\n", subsamp, flags,
                  d.mean, d.max, d.within1, int(rg[0].fallback));
      if (subsamp == TJSAMP_444) {
        EXPECT_LE(d.max, 1.0) << "4:4:4 flags " << flags;
      } else {
        EXPECT_GE(d.within1, 0.99) << "4:2:0 flags " << flags;
        EXPECT_LE(d.max, 8.0) << "4:2:0 flags " << flags;
      }
    }
  }
}

TEST_F(PreprocessCuda, FullPipelineMatchesCpu) {
  std::vector<std::vector<uint8_t>> jpgs = {
      testing::RgbJpeg(500, 375, Pattern::kMixed, 90),
      testing::RgbJpeg(375, 500, Pattern::kGradient, 95),
      testing::RgbJpeg(2000, 1500, Pattern::kMixed, 85),
      testing::RgbJpeg(60, 70, Pattern::kMixed, 90),
      testing::RgbJpeg(640, 480, Pattern::kMixed, 90, TJFLAG_PROGRESSIVE),
  };
  std::vector<uint8_t> gray(200 * 150, 90);
  jpgs.push_back(testing::EncodeJpeg(gray, 200, 150, TJPF_GRAY, TJSAMP_GRAY, 90));
  jpgs.push_back(testing::EncodeJpeg(testing::RgbToCmyk(testing::MakeRgb(300, 300, Pattern::kGradient)),
                                     300, 300, TJPF_CMYK, TJSAMP_444, 95));
  std::vector<ImageInput> in;
  for (auto& j : jpgs) in.push_back({"img.jpg", j.data(), j.size()});
  for (DType dt : {DType::kFP32, DType::kFP16}) {
    for (Layout layout : {Layout::kNCHW, Layout::kNHWC}) {
      PreprocessOptions o;
      o.dct_scaling = false;
      o.dtype = dt;
      o.layout = layout;
      auto cpu = Make(o, Device{});
      auto gpu = Make(o, Device{DeviceType::kCUDA, 0});
      Tensor hc, hg;
      std::vector<ImageResult> rc, rg;
      ASSERT_TRUE(RunOn(cpu.get(), in, &hc, &rc).ok());
      ASSERT_TRUE(RunOn(gpu.get(), in, &hg, &rg).ok());
      for (size_t i = 0; i < in.size(); ++i) ASSERT_TRUE(rg[i].status.ok()) << i << ": " << rg[i].status.ToString();
      // One 8-bit level in normalized units, for the smallest std (largest step).
      Diff d = Compare(hg, hc, 1.0 / 255.0 / 0.224);
      std::printf("%s %s: mean %.3f max %.2f levels\n", DTypeName(dt),
                  layout == Layout::kNCHW ? "nchw" : "nhwc", d.mean, d.max);
      EXPECT_LE(d.mean, 0.25);
      EXPECT_LE(d.max, dt == DType::kFP16 ? 2.5 : 2.0);
    }
  }
}

TEST_F(PreprocessCuda, BadInputFailsPerImageLikeCpu) {
  auto good = testing::RgbJpeg(500, 375, Pattern::kMixed);
  auto truncated = std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 2);
  auto corrupt = good;
  for (size_t i = corrupt.size() / 2; i < corrupt.size() / 2 + 64; i += 2) { corrupt[i] = 0xFF; corrupt[i + 1] = 0xD3; }
  std::string text = "not a jpeg";
  std::vector<uint8_t> empty;
  std::vector<ImageInput> in = {
      {"good.jpg", good.data(), good.size()},
      {"empty.jpg", empty.data(), 0},
      {"text.jpg", reinterpret_cast<const uint8_t*>(text.data()), text.size()},
      {"truncated.jpg", truncated.data(), truncated.size()},
      {"corrupt.jpg", corrupt.data(), corrupt.size()},
      {"good-again.jpg", good.data(), good.size()},
  };
  PreprocessOptions o;
  auto gpu = Make(o, Device{DeviceType::kCUDA, 0});
  Tensor hg;
  std::vector<ImageResult> rg;
  ASSERT_TRUE(RunOn(gpu.get(), in, &hg, &rg).ok());
  for (size_t i = 0; i < in.size(); ++i) {
    const bool bad = i >= 1 && i <= 4;
    EXPECT_EQ(rg[i].status.ok(), !bad) << in[i].name << ": " << rg[i].status.ToString();
    if (bad) EXPECT_NE(rg[i].status.message().find(in[i].name), std::string::npos) << rg[i].status.message();
  }
}

}  // namespace
}  // namespace optic
