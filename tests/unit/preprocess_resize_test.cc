// Resize + crop + normalize of the CPU preprocessor against a straightforward double-precision
// reference written here (direct 2-D weighted sums, torchvision geometry). Decoding is made exact
// (dct_scaling off, reference decode from TurboJPEG) so only the resize is compared.
// Stated error: max |optic - reference| <= 1e-5 in normalized units (under 1/1000 of one 8-bit
// level at std 0.225), from float accumulation; measured about 1e-6.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

#include "optic/preprocess.h"
#include "unit/preprocess_testing.h"

namespace optic {
namespace {

using testing::Pattern;
using Taps = std::vector<std::pair<int, double>>;

Taps RefTaps(ResizeFilter f, int in, int out, int o) {
  const double scale = double(in) / out;
  Taps t;
  if (f == ResizeFilter::kBilinear) {  // textbook: half-pixel centers, clamped at the borders
    double s = std::max((o + 0.5) * scale - 0.5, 0.0);
    int x0 = std::min(static_cast<int>(std::floor(s)), in - 1);
    int x1 = std::min(x0 + 1, in - 1);
    double fr = std::min(s - x0, 1.0);
    t = {{x0, 1 - fr}, {x1, fr}};
  } else if (f == ResizeFilter::kArea) {  // exact overlap of the source footprint
    const double lo = o * scale, hi = (o + 1) * scale;
    for (int j = 0; j < in; ++j) {
      double ov = std::min(hi, j + 1.0) - std::max(lo, double(j));
      if (ov > 0) t.push_back({j, ov / scale});
    }
  } else {  // triangle widened by the downscale factor, renormalized at the borders
    const double support = std::max(scale, 1.0), center = (o + 0.5) * scale;
    double sum = 0;
    for (int j = 0; j < in; ++j) {
      double w = 1.0 - std::fabs((j + 0.5 - center) / support);
      if (w > 0) { t.push_back({j, w}); sum += w; }
    }
    for (auto& p : t) p.second /= sum;
  }
  return t;
}

// NCHW fp32 reference for one image of w x h packed RGB.
std::vector<double> Reference(const std::vector<uint8_t>& rgb, int w, int h, const PreprocessOptions& o) {
  int rw = o.crop_width, rh = o.crop_height;
  if (o.resize_shorter > 0) {
    if (w <= h) { rw = o.resize_shorter; rh = int(int64_t(o.resize_shorter) * h / w); }
    else { rh = o.resize_shorter; rw = int(int64_t(o.resize_shorter) * w / h); }
  }
  const int top = int(std::nearbyint((rh - o.crop_height) / 2.0));
  const int left = int(std::nearbyint((rw - o.crop_width) / 2.0));
  std::vector<double> out(3 * o.crop_height * o.crop_width);
  for (int y = 0; y < o.crop_height; ++y) {
    Taps ty = RefTaps(o.filter, h, rh, top + y);
    for (int x = 0; x < o.crop_width; ++x) {
      Taps tx = RefTaps(o.filter, w, rw, left + x);
      for (int c = 0; c < 3; ++c) {
        double v = 0;
        for (auto [sy, wy] : ty)
          for (auto [sx, wx] : tx) v += wy * wx * rgb[(size_t(sy) * w + sx) * 3 + c];
        out[(c * o.crop_height + y) * o.crop_width + x] = (v * o.scale - o.mean[c]) / o.std[c];
      }
    }
  }
  return out;
}

Tensor RunOne(const PreprocessOptions& o, const std::vector<uint8_t>& jpg, ImageResult* r = nullptr) {
  std::unique_ptr<Preprocessor> p;
  EXPECT_TRUE(CreatePreprocessor(o, Device{}, &p).ok());
  Tensor batch = Tensor::EmptyOrDie(o.dtype, PreprocessBatchShape(o, 1));
  std::vector<ImageResult> res;
  EXPECT_TRUE(p->Run({ImageInput{"img.jpg", jpg.data(), jpg.size()}}, &batch, &res).ok());
  EXPECT_TRUE(res[0].status.ok()) << res[0].status.ToString();
  if (r) *r = res[0];
  return batch;
}

double MaxError(const Tensor& t, const std::vector<double>& ref) {
  double m = 0;
  for (size_t i = 0; i < ref.size(); ++i) m = std::max(m, std::fabs(t.GetAsDouble(i) - ref[i]));
  return m;
}

struct Case {
  int w, h, shorter, crop_w, crop_h;
  ResizeFilter filter;
};

TEST(PreprocessResize, MatchesDoublePrecisionReference) {
  const Case cases[] = {
      {500, 375, 256, 224, 224, ResizeFilter::kAntialias},  // medium, mild downscale
      {500, 375, 256, 224, 224, ResizeFilter::kBilinear},
      {1203, 1601, 256, 224, 224, ResizeFilter::kAntialias},  // ~5x downscale, portrait
      {1203, 1601, 256, 224, 224, ResizeFilter::kBilinear},
      {60, 70, 256, 224, 224, ResizeFilter::kAntialias},  // small: upscale
      {60, 70, 256, 224, 224, ResizeFilter::kBilinear},
      {640, 480, 0, 200, 160, ResizeFilter::kAntialias},  // straight to a non-square size
      {448, 448, 0, 224, 224, ResizeFilter::kArea},        // integer factors: box == area
      {672, 448, 0, 224, 224, ResizeFilter::kArea},
  };
  for (const Case& c : cases) {
    PreprocessOptions o;
    o.resize_shorter = c.shorter;
    o.crop_width = c.crop_w;
    o.crop_height = c.crop_h;
    o.filter = c.filter;
    o.dct_scaling = false;
    o.threads = 1;
    auto jpg = testing::RgbJpeg(c.w, c.h, Pattern::kMixed);
    int w, h;
    auto rgb = testing::ReferenceDecode(jpg, TJPF_RGB, &w, &h);
    const double err = MaxError(RunOne(o, jpg), Reference(rgb, w, h, o));
    std::printf("%dx%d -> %d/%dx%d %s: max error %.2e\n", c.w, c.h, c.shorter, c.crop_w, c.crop_h,
                ResizeFilterName(c.filter), err);
    EXPECT_LE(err, 1e-5) << c.w << "x" << c.h << " " << ResizeFilterName(c.filter);
  }
}

TEST(PreprocessResize, NormalizationValuesAndLayouts) {
  // A flat image: every output is (v * scale - mean) / std of the decoded level v.
  const int w = 64, h = 48;
  std::vector<uint8_t> px(w * h * 3);
  for (size_t i = 0; i < px.size(); i += 3) { px[i] = 200; px[i + 1] = 100; px[i + 2] = 30; }
  auto jpg = testing::EncodeJpeg(px, w, h, TJPF_RGB, TJSAMP_444, 100);
  int dw, dh;
  auto dec = testing::ReferenceDecode(jpg, TJPF_RGB, &dw, &dh);
  PreprocessOptions o;
  o.resize_shorter = 40;
  o.crop_width = o.crop_height = 32;
  o.mean = {0.5f, 0.25f, 0.125f};
  o.std = {0.5f, 2.0f, 0.25f};
  Tensor nchw = RunOne(o, jpg);
  for (int c = 0; c < 3; ++c) {
    const double want = (dec[c] / 255.0 - o.mean[c]) / o.std[c];
    for (int i = 0; i < 32 * 32; ++i) ASSERT_NEAR(nchw.GetAsDouble(c * 1024 + i), want, 1e-5) << c;
  }
  o.layout = Layout::kNHWC;
  Tensor nhwc = RunOne(o, jpg);
  ASSERT_EQ(nhwc.shape(), (Shape{1, 32, 32, 3}));
  o.dtype = DType::kFP16;
  Tensor half = RunOne(o, jpg);
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 32 * 32; ++i) {
      ASSERT_EQ(nhwc.GetAsDouble(i * 3 + c), nchw.GetAsDouble(c * 1024 + i));
      ASSERT_NEAR(half.GetAsDouble(i * 3 + c), nchw.GetAsDouble(c * 1024 + i), 2e-3);
    }
  }
}

TEST(PreprocessResize, DctScalingStaysCloseToFullDecode) {
  auto jpg = testing::RgbJpeg(2000, 1600, Pattern::kMixed, 90);
  PreprocessOptions o;
  o.threads = 1;
  ImageResult scaled_info;
  Tensor scaled = RunOne(o, jpg, &scaled_info);
  EXPECT_EQ(scaled_info.decoded_height, 400);  // 1/4: the smallest scale still >= 256 rows
  o.dct_scaling = false;
  Tensor full = RunOne(o, jpg);
  double sum = 0, mx = 0;
  for (int64_t i = 0; i < full.numel(); ++i) {
    const double d = std::fabs(full.GetAsDouble(i) - scaled.GetAsDouble(i)) * 0.226 * 255;
    sum += d;
    mx = std::max(mx, d);
  }
  // Stated: DCT-domain downscale + a mild resize differs from full decode + a 6x resize by about
  // one 8-bit level on average on a textured image.
  EXPECT_LT(sum / full.numel(), 2.0);
  EXPECT_LT(mx, 40.0);
}

TEST(PreprocessResize, ThreadCountDoesNotChangeOutput) {
  std::vector<std::vector<uint8_t>> jpgs;
  std::vector<ImageInput> in;
  for (int i = 0; i < 12; ++i) jpgs.push_back(testing::RgbJpeg(300 + 17 * i, 200 + 11 * i, Pattern::kMixed, 85, 0, i));
  for (auto& j : jpgs) in.push_back({"x.jpg", j.data(), j.size()});
  PreprocessOptions o;
  std::vector<Tensor> outs;
  for (int threads : {1, 3}) {
    o.threads = threads;
    std::unique_ptr<Preprocessor> p;
    ASSERT_TRUE(CreatePreprocessor(o, Device{}, &p).ok());
    Tensor b = Tensor::EmptyOrDie(o.dtype, PreprocessBatchShape(o, 12));
    std::vector<ImageResult> res;
    ASSERT_TRUE(p->Run(in, &b, &res).ok());
    for (auto& r : res) ASSERT_TRUE(r.status.ok());
    outs.push_back(b);
  }
  ASSERT_EQ(0, std::memcmp(outs[0].raw(), outs[1].raw(), outs[0].nbytes()));
}

// Gray input (one channel, replicated to RGB) and the NHWC / fp16 outputs, through both pass
// orders of the resize: horizontal-first (60x70, an upscale) and vertical-first (500x375).
TEST(PreprocessResize, GrayAndLayoutsInBothPassOrders) {
  for (auto [w0, h0] : {std::pair{60, 70}, std::pair{500, 375}}) {
    auto rgb = testing::MakeRgb(w0, h0, Pattern::kMixed);
    std::vector<uint8_t> gray(static_cast<size_t>(w0) * h0);
    for (size_t i = 0; i < gray.size(); ++i) gray[i] = rgb[3 * i + 1];
    auto jpg = testing::EncodeJpeg(gray, w0, h0, TJPF_GRAY, TJSAMP_GRAY, 90);
    int w, h;
    auto dec = testing::ReferenceDecode(jpg, TJPF_GRAY, &w, &h);
    std::vector<uint8_t> dec3(dec.size() * 3);
    for (size_t i = 0; i < dec.size(); ++i) dec3[3 * i] = dec3[3 * i + 1] = dec3[3 * i + 2] = dec[i];
    PreprocessOptions o;
    o.dct_scaling = false;
    o.threads = 1;
    Tensor nchw = RunOne(o, jpg);
    EXPECT_LE(MaxError(nchw, Reference(dec3, w, h, o)), 1e-5) << w0 << "x" << h0;
    o.layout = Layout::kNHWC;
    Tensor nhwc = RunOne(o, jpg);
    o.dtype = DType::kFP16;
    Tensor half = RunOne(o, jpg);
    const int n = o.crop_width * o.crop_height;
    for (int i = 0; i < n; ++i) {
      for (int c = 0; c < 3; ++c) {
        ASSERT_EQ(nhwc.GetAsDouble(i * 3 + c), nchw.GetAsDouble(c * n + i)) << w0 << " " << i;
        ASSERT_NEAR(half.GetAsDouble(i * 3 + c), nchw.GetAsDouble(c * n + i), 2e-3);
      }
    }
  }
}

// The resize tables are cached per worker while consecutive images share a size: a batch that
// alternates sizes must give each image exactly what it gets alone.
TEST(PreprocessResize, MixedSizesInOneBatchMatchSingleRuns) {
  const std::pair<int, int> sizes[] = {{500, 375}, {60, 70}, {500, 375}, {640, 480}, {60, 70}};
  std::vector<std::vector<uint8_t>> jpgs;
  std::vector<ImageInput> in;
  for (size_t i = 0; i < std::size(sizes); ++i) {
    jpgs.push_back(testing::RgbJpeg(sizes[i].first, sizes[i].second, Pattern::kMixed, 90, 0, 7 + i));
  }
  for (auto& j : jpgs) in.push_back({"x.jpg", j.data(), j.size()});
  PreprocessOptions o;
  o.threads = 1;
  std::unique_ptr<Preprocessor> p;
  ASSERT_TRUE(CreatePreprocessor(o, Device{}, &p).ok());
  Tensor b = Tensor::EmptyOrDie(o.dtype, PreprocessBatchShape(o, in.size()));
  std::vector<ImageResult> res;
  ASSERT_TRUE(p->Run(in, &b, &res).ok());
  const size_t row = b.nbytes() / in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    ASSERT_TRUE(res[i].status.ok());
    Tensor alone = RunOne(o, jpgs[i]);
    EXPECT_EQ(0, std::memcmp(static_cast<const uint8_t*>(b.raw()) + i * row, alone.raw(), row)) << i;
  }
}

}  // namespace
}  // namespace optic
