// The bad-input corpus: a batch mixing good images with zero-byte, non-JPEG, truncated, corrupt
// and over-the-cap ones. Good images complete (and equal their output when run alone); bad ones
// carry an error naming the image and the reason, and their rows are zeroed. Damaged entropy data
// that still decodes to a full image is used, with libjpeg-turbo's warning.
#include <gtest/gtest.h>

#include <cstring>

#include "optic/preprocess.h"
#include "unit/preprocess_testing.h"

namespace optic {
namespace {

using testing::Pattern;

// Sets the frame size in the SOF marker of a JPEG (a header that lies about its size).
void PatchFrameSize(std::vector<uint8_t>* jpg, int w, int h) {
  for (size_t i = 2; i + 9 < jpg->size(); ++i) {
    if ((*jpg)[i] == 0xFF && ((*jpg)[i + 1] == 0xC0 || (*jpg)[i + 1] == 0xC2)) {
      (*jpg)[i + 5] = h >> 8; (*jpg)[i + 6] = h & 0xFF;
      (*jpg)[i + 7] = w >> 8; (*jpg)[i + 8] = w & 0xFF;
      return;
    }
  }
  FAIL() << "no SOF marker";
}

struct Item {
  std::string name;
  std::vector<uint8_t> bytes;
  const char* expect;  // substring of the error; nullptr = must succeed
  const char* warn = nullptr;  // substring of the warning of an image that must succeed
};

std::vector<Item> Corpus() {
  std::vector<Item> v;
  auto good = testing::RgbJpeg(500, 375, Pattern::kMixed);
  v.push_back({"good.jpg", good, nullptr});
  v.push_back({"empty.jpg", {}, "zero bytes"});
  std::string text = "<html>not an image</html>";
  v.push_back({"page.html", std::vector<uint8_t>(text.begin(), text.end()), "not a JPEG"});
  auto png = std::vector<uint8_t>{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13};
  v.push_back({"image.png", png, "not a JPEG"});
  v.push_back({"truncated.jpg", std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 2),
               "truncated or corrupt"});
  v.push_back({"header-only.jpg", std::vector<uint8_t>(good.begin(), good.begin() + 40), "corrupt JPEG header"});
  auto corrupt = good;  // a restart marker where none can be, in the middle of the scan
  for (size_t i = corrupt.size() / 2; i < corrupt.size() / 2 + 64; i += 2) { corrupt[i] = 0xFF; corrupt[i + 1] = 0xD3; }
  v.push_back({"corrupt.jpg", corrupt, nullptr, "Corrupt JPEG data"});
  auto bomb = testing::RgbJpeg(64, 64, Pattern::kGradient);
  PatchFrameSize(&bomb, 60000, 60000);
  v.push_back({"bomb.jpg", bomb, "decompression bomb guard"});
  std::vector<uint8_t> gray(120 * 80, 77);
  v.push_back({"gray.jpg", testing::EncodeJpeg(gray, 120, 80, TJPF_GRAY, TJSAMP_GRAY, 90), nullptr});
  auto rgb = testing::MakeRgb(300, 200, Pattern::kGradient);
  v.push_back({"cmyk.jpg", testing::EncodeJpeg(testing::RgbToCmyk(rgb), 300, 200, TJPF_CMYK, TJSAMP_420, 90), nullptr});
  v.push_back({"progressive.jpg", testing::RgbJpeg(640, 480, Pattern::kNoise, 80, TJFLAG_PROGRESSIVE), nullptr});
  v.push_back({"good2.jpg", testing::RgbJpeg(333, 500, Pattern::kGradient), nullptr});
  return v;
}

TEST(PreprocessBadInput, MixedBatchGoodCompleteBadNamed) {
  auto corpus = Corpus();
  std::vector<ImageInput> in;
  for (auto& it : corpus) in.push_back({it.name, it.bytes.data(), it.bytes.size()});
  PreprocessOptions o;
  o.threads = 3;
  std::unique_ptr<Preprocessor> p;
  ASSERT_TRUE(CreatePreprocessor(o, Device{}, &p).ok());
  const int64_t n = static_cast<int64_t>(in.size());
  Tensor batch = Tensor::EmptyOrDie(o.dtype, PreprocessBatchShape(o, n));
  std::memset(batch.raw(), 0x7f, batch.nbytes());  // so a row left unwritten shows
  std::vector<ImageResult> res;
  ASSERT_TRUE(p->Run(in, &batch, &res).ok());
  ASSERT_EQ(res.size(), corpus.size());
  const size_t row = batch.nbytes() / n;
  for (size_t i = 0; i < corpus.size(); ++i) {
    const auto* bytes = static_cast<const uint8_t*>(batch.raw()) + row * i;
    if (corpus[i].expect == nullptr) {
      ASSERT_TRUE(res[i].status.ok()) << res[i].status.ToString();
      if (corpus[i].warn) {
        EXPECT_NE(res[i].warning.find(corpus[i].warn), std::string::npos) << corpus[i].name << ": " << res[i].warning;
      } else {
        EXPECT_EQ(res[i].warning, "") << corpus[i].name;
      }
      // Same as running it alone.
      Tensor one = Tensor::EmptyOrDie(o.dtype, PreprocessBatchShape(o, 1));
      std::vector<ImageResult> r1;
      ASSERT_TRUE(p->Run({in[i]}, &one, &r1).ok());
      EXPECT_EQ(0, std::memcmp(one.raw(), bytes, row)) << corpus[i].name;
    } else {
      const std::string& m = res[i].status.message();
      EXPECT_EQ(res[i].status.code(), StatusCode::kInvalidArgument) << corpus[i].name;
      EXPECT_NE(m.find("'" + corpus[i].name + "'"), std::string::npos) << m;
      EXPECT_NE(m.find(corpus[i].expect), std::string::npos) << corpus[i].name << ": " << m;
      bool zero = true;
      for (size_t b = 0; b < row; ++b) zero = zero && bytes[b] == 0;
      EXPECT_TRUE(zero) << corpus[i].name;
    }
  }
}

TEST(PreprocessBadInput, PixelCapIsConfigurable) {
  auto jpg = testing::RgbJpeg(640, 480, Pattern::kGradient);
  PreprocessOptions o;
  o.max_pixels = 640 * 480 - 1;
  std::unique_ptr<Preprocessor> p;
  ASSERT_TRUE(CreatePreprocessor(o, Device{}, &p).ok());
  Tensor b = Tensor::EmptyOrDie(o.dtype, PreprocessBatchShape(o, 1));
  std::vector<ImageResult> res;
  ASSERT_TRUE(p->Run({{"big.jpg", jpg.data(), jpg.size()}}, &b, &res).ok());
  EXPECT_NE(res[0].status.message().find("640x480 = 307200 pixels exceeds the cap of 307199"),
            std::string::npos) << res[0].status.message();
}

TEST(PreprocessBadInput, BadBatchTensorIsAnError) {
  PreprocessOptions o;
  std::unique_ptr<Preprocessor> p;
  ASSERT_TRUE(CreatePreprocessor(o, Device{}, &p).ok());
  auto jpg = testing::RgbJpeg(64, 64, Pattern::kGradient);
  std::vector<ImageResult> res;
  Tensor wrong = Tensor::EmptyOrDie(DType::kFP32, {1, 3, 200, 200});
  EXPECT_EQ(p->Run({{"a.jpg", jpg.data(), jpg.size()}}, &wrong, &res).code(), StatusCode::kInvalidArgument);
  Tensor half = Tensor::EmptyOrDie(DType::kFP16, PreprocessBatchShape(o, 1));
  EXPECT_EQ(p->Run({{"a.jpg", jpg.data(), jpg.size()}}, &half, &res).code(), StatusCode::kInvalidArgument);
  PreprocessOptions bad;
  bad.resize_shorter = 100;  // smaller than the crop
  EXPECT_FALSE(CreatePreprocessor(bad, Device{}, &p).ok());
  bad = PreprocessOptions{};
  bad.dtype = DType::kINT8;
  EXPECT_EQ(CreatePreprocessor(bad, Device{}, &p).code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace optic
