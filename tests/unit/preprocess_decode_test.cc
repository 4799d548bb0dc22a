// Decoded pixels of optic's CPU decoder against libjpeg-turbo's reference decode and against the
// pixels the test encoded: RGB, grayscale, progressive, CMYK, DCT-scaled.
#include <gtest/gtest.h>

#include <cstdlib>

#include "optic/preprocess.h"
#include "unit/preprocess_testing.h"

namespace optic {
namespace {

using testing::EncodeJpeg;
using testing::MakeRgb;
using testing::Pattern;
using testing::ReferenceDecode;

ImageInput In(const std::vector<uint8_t>& b, const char* name = "test.jpg") {
  return ImageInput{name, b.data(), b.size()};
}

// Mean absolute difference in 8-bit levels.
double MeanAbs(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::abs(int(a[i]) - int(b[i]));
  return s / a.size();
}

TEST(PreprocessDecode, RgbMatchesReferenceExactly) {
  for (int flags : {0, TJFLAG_PROGRESSIVE}) {
    const int w = 317, h = 211;  // odd sizes: partial MCUs on both axes
    auto src = MakeRgb(w, h, Pattern::kMixed);
    auto jpg = EncodeJpeg(src, w, h, TJPF_RGB, TJSAMP_420, 92, flags);
    std::vector<uint8_t> rgb;
    int ow = 0, oh = 0;
    ASSERT_TRUE(DecodeJpegRgb(In(jpg), 1 << 30, 1, &rgb, &ow, &oh).ok());
    int rw, rh;
    auto ref = ReferenceDecode(jpg, TJPF_RGB, &rw, &rh);
    ASSERT_EQ(ow, w);
    ASSERT_EQ(oh, h);
    EXPECT_EQ(rgb, ref) << "flags " << flags;
    // And the decode is the picture that was encoded (JPEG loss at q92 on a textured image).
    EXPECT_LT(MeanAbs(rgb, src), 6.0);
  }
}

TEST(PreprocessDecode, GrayscaleExpandsToRgb) {
  const int w = 120, h = 90;
  auto rgb = MakeRgb(w, h, Pattern::kGradient);
  std::vector<uint8_t> gray(w * h);
  for (int i = 0; i < w * h; ++i) gray[i] = rgb[3 * i];
  auto jpg = EncodeJpeg(gray, w, h, TJPF_GRAY, TJSAMP_GRAY, 90);
  std::vector<uint8_t> out;
  int ow, oh;
  ASSERT_TRUE(DecodeJpegRgb(In(jpg), 1 << 30, 1, &out, &ow, &oh).ok());
  int rw, rh;
  auto ref = ReferenceDecode(jpg, TJPF_GRAY, &rw, &rh);
  ASSERT_EQ(out.size(), ref.size() * 3);
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_EQ(out[3 * i], ref[i]);
    ASSERT_EQ(out[3 * i + 1], ref[i]);
    ASSERT_EQ(out[3 * i + 2], ref[i]);
  }
}

TEST(PreprocessDecode, CmykConvertsToTheEncodedRgb) {
  const int w = 96, h = 64;
  auto rgb = MakeRgb(w, h, Pattern::kGradient);
  auto jpg = EncodeJpeg(testing::RgbToCmyk(rgb), w, h, TJPF_CMYK, TJSAMP_444, 98);
  tjhandle t = tjInitDecompress();
  int hw, hh, sub, cs;
  ASSERT_EQ(tjDecompressHeader3(t, jpg.data(), jpg.size(), &hw, &hh, &sub, &cs), 0);
  tjDestroy(t);
  ASSERT_EQ(cs, TJCS_YCCK);  // the test really made a CMYK-family JPEG
  std::vector<uint8_t> out;
  int ow, oh;
  Status s = DecodeJpegRgb(In(jpg), 1 << 30, 1, &out, &ow, &oh);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(out.size(), rgb.size());
  EXPECT_LT(MeanAbs(out, rgb), 3.0);
  // Against libjpeg-turbo's own CMYK decode converted with its formula: exact.
  int rw, rh;
  auto cmyk = ReferenceDecode(jpg, TJPF_CMYK, &rw, &rh);
  for (size_t i = 0; i < rgb.size() / 3; ++i) {
    for (int c = 0; c < 3; ++c) {
      const int want = static_cast<int>(double(cmyk[4 * i + c]) * cmyk[4 * i + 3] / 255.0 + 0.5);
      ASSERT_EQ(out[3 * i + c], want) << "pixel " << i;
    }
  }
}

TEST(PreprocessDecode, DctScaledDecodeMatchesReference) {
  const int w = 800, h = 600;
  auto jpg = testing::RgbJpeg(w, h, Pattern::kMixed);
  for (int denom : {2, 4, 8}) {
    std::vector<uint8_t> out;
    int ow, oh;
    ASSERT_TRUE(DecodeJpegRgb(In(jpg), 1 << 30, denom, &out, &ow, &oh).ok());
    int rw, rh;
    auto ref = ReferenceDecode(jpg, TJPF_RGB, &rw, &rh, denom);
    EXPECT_EQ(ow, w / denom);
    EXPECT_EQ(oh, h / denom);
    EXPECT_EQ(out, ref) << "1/" << denom;
  }
}

}  // namespace
}  // namespace optic
