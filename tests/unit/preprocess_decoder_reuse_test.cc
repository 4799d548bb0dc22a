// Decoder state reused across images: a failed or damaged image must leave nothing behind that
// changes how a later image decodes. One JpegDecoder (one TurboJPEG handle) and the CPU
// preprocessor's workers (1 and 2 threads) decode a corpus of good JPEGs with damaged files
// interleaved at seeded random positions; every good image must give the pixels a fresh decoder
// gives, whatever came before it. Also the policy for damaged data (docs/preprocess.md, "Bad
// input"): entropy-coded damage that still decodes to a full image is accepted with a warning;
// truncated data and bad headers are rejected by the structural check before any decoder.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "optic/preprocess.h"
#include "preprocess/cpu/jpeg_decoder.h"
#include "unit/preprocess_testing.h"

namespace optic {
namespace {

using preprocess::DecodedImage;
using preprocess::JpegDecoder;
using preprocess::JpegHeader;
using testing::Pattern;
using Bytes = std::vector<uint8_t>;

// Offset of the n-th FF `m` marker (counting from 0) in the header segments, or 0.
size_t FindMarker(const Bytes& j, uint8_t m, int n = 0) {
  size_t p = 2;
  while (p + 4 <= j.size() && j[p] == 0xFF) {
    const uint8_t mk = j[p + 1];
    if (mk == m && n-- == 0) return p;
    if (mk == 0xDA) return 0;
    p += 2 + ((j[p + 2] << 8) | j[p + 3]);
  }
  return 0;
}

// The first DHT's 16 code-length counts claim 3 codes of length 1 more than the segment holds:
// libjpeg-turbo fails while reading the header ("Bogus Huffman table definition").
Bytes BogusDhtCount(Bytes j) {
  const size_t p = FindMarker(j, 0xC4);
  if (p == 0) throw std::runtime_error("no DHT");
  j[p + 5] = 3;
  return j;
}

// The n-th DHT keeps its symbol count but moves two codes to length 1, which over-subscribes the
// code space: the header reads, the decode fails when the table is built.
Bytes BogusDhtOversubscribed(Bytes j, int n) {
  const size_t p = FindMarker(j, 0xC4, n);
  if (p == 0) throw std::runtime_error("no DHT");
  uint8_t* bits = &j[p + 5];
  int l = 15;
  while (bits[l] < 2) --l;
  bits[l] -= 2;
  bits[0] += 2;
  return j;
}

// A bogus DC table 2 that the first component's scan uses (a slot later images do not define).
Bytes BogusDhtSlot2(Bytes j) {
  const size_t sos = FindMarker(j, 0xDA);
  if (sos == 0) throw std::runtime_error("no SOS");
  j[sos + 6] = static_cast<uint8_t>((2 << 4) | (j[sos + 6] & 0x0F));  // Td = 2 for component 1
  const Bytes dht = {0xFF, 0xC4, 0x00, 0x15, 0x02, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2};
  j.insert(j.begin() + sos, dht.begin(), dht.end());
  return j;
}

// Header errors libjpeg-turbo raises while reading the frame and scan headers.
Bytes ZeroSamplingFactor(Bytes j) {
  const size_t p = FindMarker(j, 0xC0);
  if (p == 0) throw std::runtime_error("no SOF0");
  j[p + 11] = 0x00;
  return j;
}

// Every segment with marker m before the first SOS removed (an abbreviated stream).
Bytes Strip(const Bytes& j, uint8_t m) {
  Bytes out(j.begin(), j.begin() + 2);
  size_t p = 2;
  while (p + 4 <= j.size()) {
    if (j[p + 1] == 0xDA) {
      out.insert(out.end(), j.begin() + p, j.end());
      break;
    }
    const size_t len = (j[p + 2] << 8) | j[p + 3];
    if (j[p + 1] != m) out.insert(out.end(), j.begin() + p, j.begin() + p + 2 + len);
    p += 2 + len;
  }
  return out;
}

// Entropy-coded bytes in the middle of the first scan replaced by seeded noise with no 0xFF
// (the marker structure stays intact): libjpeg-turbo warns, still decodes a full image.
Bytes ScrambleEntropy(Bytes j, uint32_t seed) {
  const size_t sos = FindMarker(j, 0xDA);
  const size_t data = sos + 2 + ((j[sos + 2] << 8) | j[sos + 3]);
  std::mt19937 rng(seed);
  const size_t begin = data + (j.size() - data) / 3, end = begin + (j.size() - data) / 4;
  for (size_t i = begin; i < end && i + 2 < j.size(); ++i) {
    if (j[i] == 0xFF || j[i - 1] == 0xFF) continue;
    j[i] = static_cast<uint8_t>(rng() % 0xFF);
  }
  return j;
}

// TurboJPEG 2.1 takes the restart interval only from the environment (TJ_RESTART, MCUs).
Bytes WithRestarts(int w, int h, int subsamp, int flags) {
  setenv("TJ_RESTART", "3B", 1);
  Bytes out = testing::EncodeJpeg(testing::MakeRgb(w, h, Pattern::kMixed, 7), w, h, TJPF_RGB, subsamp, 88, flags);
  unsetenv("TJ_RESTART");
  return out;
}

struct Item {
  std::string name;
  Bytes bytes;
  bool good;  // must decode, to the pixels a fresh decoder gives
};

std::vector<Item> GoodImages() {
  std::vector<Item> v;
  const int sizes[][2] = {{500, 375}, {333, 500}, {64, 48}, {1023, 767}, {17, 260}};
  const int subs[] = {TJSAMP_444, TJSAMP_422, TJSAMP_420};
  int k = 0;
  for (const auto& s : sizes) {
    for (int sub : subs) {
      const int flags = (k % 2) ? TJFLAG_PROGRESSIVE : 0;
      v.push_back({"rgb" + std::to_string(k) + ".jpg",
                   testing::EncodeJpeg(testing::MakeRgb(s[0], s[1], Pattern::kMixed, k), s[0], s[1],
                                       TJPF_RGB, sub, 60 + 2 * k, flags),
                   true});
      ++k;
    }
  }
  std::vector<uint8_t> gray(321 * 201);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>((i * 13) ^ (i >> 7));
  v.push_back({"gray.jpg", testing::EncodeJpeg(gray, 321, 201, TJPF_GRAY, TJSAMP_GRAY, 90), true});
  v.push_back({"gray-prog.jpg", testing::EncodeJpeg(gray, 321, 201, TJPF_GRAY, TJSAMP_GRAY, 75, TJFLAG_PROGRESSIVE), true});
  const auto rgb = testing::MakeRgb(300, 200, Pattern::kGradient);
  v.push_back({"cmyk.jpg", testing::EncodeJpeg(testing::RgbToCmyk(rgb), 300, 200, TJPF_CMYK, TJSAMP_420, 90), true});
  v.push_back({"restart.jpg", WithRestarts(320, 240, TJSAMP_420, 0), true});
  v.push_back({"restart-prog.jpg", WithRestarts(320, 240, TJSAMP_444, TJFLAG_PROGRESSIVE), true});
  // Baseline TurboJPEG output uses the standard Huffman tables, so without its DHT segments it
  // is the same image (Motion-JPEG style); a decoder must not use an earlier image's tables.
  v.push_back({"no-dht.jpg", Strip(testing::RgbJpeg(200, 150, Pattern::kMixed, 90, 0, 3), 0xC4), true});
  // Damaged entropy data that still decodes to a full image: accepted (with a warning).
  v.push_back({"scrambled.jpg", ScrambleEntropy(testing::RgbJpeg(400, 300, Pattern::kMixed, 85, 0, 5), 9), true});
  return v;
}

std::vector<Item> BadImages() {
  const Bytes base = testing::RgbJpeg(240, 180, Pattern::kMixed, 85, 0, 11);
  std::vector<Item> v;
  v.push_back({"bogus-dht-count.jpg", BogusDhtCount(base), false});
  for (int n = 0; n < 4; ++n) {
    v.push_back({"bogus-dht-" + std::to_string(n) + ".jpg", BogusDhtOversubscribed(base, n), false});
  }
  v.push_back({"bogus-dht-slot2.jpg", BogusDhtSlot2(base), false});
  v.push_back({"zero-sampling.jpg", ZeroSamplingFactor(base), false});
  v.push_back({"no-dqt.jpg", Strip(base, 0xDB), false});  // a fresh decoder has no quant table
  v.push_back({"truncated.jpg", Bytes(base.begin(), base.begin() + base.size() / 2), false});
  v.push_back({"no-eoi.jpg", Bytes(base.begin(), base.end() - 2), false});
  v.push_back({"empty.jpg", {}, false});
  std::mt19937 rng(5);
  Bytes noise(3000);
  for (auto& b : noise) b = static_cast<uint8_t>(rng());
  v.push_back({"random.bin", noise, false});
  Bytes soi_noise = noise;
  soi_noise[0] = 0xFF;
  soi_noise[1] = 0xD8;
  v.push_back({"soi-then-noise.jpg", soi_noise, false});
  return v;
}

// Full-size RGB decode by a brand-new TurboJPEG handle, or empty when it fails.
Bytes FreshDecode(const Bytes& j) {
  JpegDecoder d;
  JpegHeader h;
  DecodedImage img;
  const ImageInput in{"x", j.data(), j.size()};
  if (!d.ReadHeader(in, int64_t{1} << 30, &h).ok()) return {};
  if (!d.Decode(in, h, 1, 1, /*expand_gray=*/true, &img).ok()) return {};
  return img.pixels;
}

TEST(PreprocessDecoderReuse, BogusHuffmanTableDoesNotPoisonTheDecoder) {
  const Bytes good = testing::RgbJpeg(160, 120, Pattern::kMixed, 90);
  const Bytes prog = testing::RgbJpeg(150, 100, Pattern::kNoise, 80, TJFLAG_PROGRESSIVE);
  const Bytes want = FreshDecode(good), want_prog = FreshDecode(prog);
  ASSERT_FALSE(want.empty());
  ASSERT_FALSE(want_prog.empty());
  for (const Item& bad : BadImages()) {
    JpegDecoder d;
    JpegHeader h;
    DecodedImage img;
    const ImageInput b{bad.name, bad.bytes.data(), bad.bytes.size()};
    Status s = d.ReadHeader(b, int64_t{1} << 30, &h);
    if (s.ok()) s = d.Decode(b, h, 1, 1, true, &img);
    EXPECT_FALSE(s.ok()) << bad.name << " was accepted";
    EXPECT_NE(s.message().find("'" + bad.name + "'"), std::string::npos) << s.message();
    for (int round = 0; round < 2; ++round) {
      for (const Bytes* g : {&good, &prog}) {
        const ImageInput in{"good.jpg", g->data(), g->size()};
        Status gs = d.ReadHeader(in, int64_t{1} << 30, &h);
        if (gs.ok()) gs = d.Decode(in, h, 1, 1, true, &img);
        ASSERT_TRUE(gs.ok()) << "after " << bad.name << " (" << s.message() << "): " << gs.message();
        EXPECT_EQ(img.pixels, g == &good ? want : want_prog) << "after " << bad.name;
      }
    }
  }
}

TEST(PreprocessDecoderReuse, NoTableCarriesOverFromAnEarlierImage) {
  // An image that defines no Huffman tables decodes with the standard ones (as a fresh decoder
  // does), not with the optimized tables of the progressive image before it.
  const Bytes base = testing::RgbJpeg(200, 150, Pattern::kMixed, 90, 0, 3);
  const Bytes no_dht = Strip(base, 0xC4), no_dqt = Strip(base, 0xDB);
  const Bytes prog = testing::RgbJpeg(200, 150, Pattern::kNoise, 40, TJFLAG_PROGRESSIVE, 4);
  ASSERT_EQ(FreshDecode(no_dht), FreshDecode(base));
  ASSERT_TRUE(FreshDecode(no_dqt).empty()) << "a fresh decoder has no quantization table";
  JpegDecoder d;
  JpegHeader h;
  DecodedImage img;
  for (int round = 0; round < 2; ++round) {
    const ImageInput p{"prog.jpg", prog.data(), prog.size()};
    ASSERT_TRUE(d.ReadHeader(p, int64_t{1} << 30, &h).ok());
    ASSERT_TRUE(d.Decode(p, h, 1, 1, true, &img).ok());
    const ImageInput a{"no-dht.jpg", no_dht.data(), no_dht.size()};
    Status s = d.ReadHeader(a, int64_t{1} << 30, &h);
    if (s.ok()) s = d.Decode(a, h, 1, 1, true, &img);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(img.pixels, FreshDecode(base)) << "round " << round;
    const ImageInput q{"no-dqt.jpg", no_dqt.data(), no_dqt.size()};
    s = d.ReadHeader(q, int64_t{1} << 30, &h);
    if (s.ok()) s = d.Decode(q, h, 1, 1, true, &img);
    EXPECT_FALSE(s.ok()) << "no-dqt.jpg decoded with an earlier image's quantization table";
    EXPECT_NE(s.message().find("quantization table"), std::string::npos) << s.message();
  }
}

TEST(PreprocessDecoderReuse, DamagedButDecodableIsAcceptedWithAWarning) {
  const Bytes base = testing::RgbJpeg(400, 300, Pattern::kMixed, 85, 0, 5);
  Bytes rst = base;  // restart markers where no restart interval is defined
  for (size_t i = rst.size() / 2; i < rst.size() / 2 + 64; i += 2) { rst[i] = 0xFF; rst[i + 1] = 0xD3; }
  for (const Bytes& j : {ScrambleEntropy(base, 9), rst}) {
    PreprocessOptions o;
    o.threads = 1;
    std::unique_ptr<Preprocessor> p;
    ASSERT_TRUE(CreatePreprocessor(o, Device{}, &p).ok());
    Tensor batch = Tensor::EmptyOrDie(o.dtype, PreprocessBatchShape(o, 1));
    std::vector<ImageResult> res;
    ASSERT_TRUE(p->Run({{"damaged.jpg", j.data(), j.size()}}, &batch, &res).ok());
    ASSERT_TRUE(res[0].status.ok()) << res[0].status.message();
    EXPECT_NE(res[0].warning.find("Corrupt JPEG data"), std::string::npos) << res[0].warning;
    std::vector<uint8_t> rgb;
    int w = 0, h = 0;
    EXPECT_TRUE(DecodeJpegRgb({"damaged.jpg", j.data(), j.size()}, int64_t{1} << 30, 1, &rgb, &w, &h).ok());
    EXPECT_EQ(w, 400);
    EXPECT_EQ(h, 300);
  }
}

// Row i of each Run compared with the good image run alone by a fresh preprocessor.
void RunCorpus(int threads, int batch_size, uint32_t seed) {
  std::vector<Item> items = GoodImages();
  const std::vector<Item> bad = BadImages();
  std::mt19937 rng(seed);
  for (const Item& b : bad) {
    items.insert(items.begin() + std::uniform_int_distribution<size_t>(0, items.size())(rng), b);
  }
  std::shuffle(items.begin(), items.end(), rng);
  PreprocessOptions o;
  o.threads = 1;
  std::vector<Bytes> alone(items.size());
  const size_t row = static_cast<size_t>(ShapeNumel(PreprocessBatchShape(o, 1))) * sizeof(float);
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].good) continue;
    std::unique_ptr<Preprocessor> fresh;
    ASSERT_TRUE(CreatePreprocessor(o, Device{}, &fresh).ok());
    Tensor t = Tensor::EmptyOrDie(o.dtype, PreprocessBatchShape(o, 1));
    std::vector<ImageResult> r;
    ASSERT_TRUE(fresh->Run({{items[i].name, items[i].bytes.data(), items[i].bytes.size()}}, &t, &r).ok());
    ASSERT_TRUE(r[0].status.ok()) << items[i].name << ": " << r[0].status.message();
    alone[i].assign(static_cast<uint8_t*>(t.raw()), static_cast<uint8_t*>(t.raw()) + row);
  }
  o.threads = threads;
  std::unique_ptr<Preprocessor> p;
  ASSERT_TRUE(CreatePreprocessor(o, Device{}, &p).ok());
  for (size_t b0 = 0; b0 < items.size(); b0 += batch_size) {
    const size_t n = std::min(items.size() - b0, static_cast<size_t>(batch_size));
    std::vector<ImageInput> in;
    for (size_t i = b0; i < b0 + n; ++i) in.push_back({items[i].name, items[i].bytes.data(), items[i].bytes.size()});
    Tensor t = Tensor::EmptyOrDie(o.dtype, PreprocessBatchShape(o, static_cast<int64_t>(n)));
    std::vector<ImageResult> res;
    ASSERT_TRUE(p->Run(in, &t, &res).ok());
    for (size_t k = 0; k < n; ++k) {
      const Item& it = items[b0 + k];
      if (!it.good) {
        EXPECT_FALSE(res[k].status.ok()) << it.name << " accepted";
        continue;
      }
      ASSERT_TRUE(res[k].status.ok()) << it.name << " (threads " << threads << ", seed " << seed
                                      << "): " << res[k].status.message();
      EXPECT_EQ(0, std::memcmp(static_cast<uint8_t*>(t.raw()) + row * k, alone[b0 + k].data(), row))
          << it.name << " differs from its decode alone (threads " << threads << ", seed " << seed << ")";
    }
  }
}

TEST(PreprocessDecoderReuse, CorpusWithDamagedFilesOneThread) {
  for (uint32_t seed : {1u, 2u, 3u}) RunCorpus(1, 1, seed);
  RunCorpus(1, 7, 4);
}

TEST(PreprocessDecoderReuse, CorpusWithDamagedFilesTwoThreads) {
  for (uint32_t seed : {5u, 6u}) RunCorpus(2, 1, seed);
  for (uint32_t seed : {7u, 8u}) RunCorpus(2, 8, seed);
}

}  // namespace
}  // namespace optic
