// CheckJpegStructure (src/preprocess/jpeg_structure.h), the structural check both paths run
// before any decoder. Every case is also decoded by optic's CPU decoder (DecodeJpegRgb) and by a
// bare TurboJPEG handle, to hold the invariants the policy relies on: what the check rejects,
// libjpeg-turbo rejects or only decodes with a warning about missing data; what it reports as
// damage, libjpeg-turbo decodes to a full image with a warning; what it passes, it decodes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "optic/preprocess.h"
#include "preprocess/jpeg_structure.h"
#include "unit/preprocess_testing.h"

namespace optic {
namespace {

using preprocess::CheckJpegStructure;
using preprocess::JpegStructure;
using preprocess::JpegStructureProblem;
using testing::Pattern;

using Bytes = std::vector<uint8_t>;

// TurboJPEG 2.1 has no API for the restart interval; its compressor reads TJ_RESTART
// ("<n>B" = every n MCUs) from the environment (turbojpeg.c setCompDefaults).
Bytes WithRestartInterval(int mcus, int subsamp, int flags) {
  const std::string v = std::to_string(mcus) + "B";
  setenv("TJ_RESTART", v.c_str(), 1);
  Bytes out = testing::EncodeJpeg(testing::MakeRgb(320, 240, Pattern::kMixed), 320, 240, TJPF_RGB,
                                  subsamp, 90, flags);
  unsetenv("TJ_RESTART");
  return out;
}

// Offset of the first byte after the first SOS segment (the first scan's entropy data).
size_t FirstScanData(const Bytes& j) {
  for (size_t i = 2; i + 3 < j.size(); ++i) {
    if (j[i] == 0xFF && j[i + 1] == 0xDA) return i + 2 + ((j[i + 2] << 8) | j[i + 3]);
  }
  return 0;
}

// Offset of the first FF `m` at or after `from`, or 0.
size_t Find(const Bytes& j, uint8_t m, size_t from) {
  for (size_t i = from; i + 1 < j.size(); ++i) {
    if (j[i] == 0xFF && j[i + 1] == m) return i;
  }
  return 0;
}

bool CpuDecodes(const Bytes& j, std::string* why) {
  std::vector<uint8_t> rgb;
  int w = 0, h = 0;
  Status s = DecodeJpegRgb({"x.jpg", j.data(), j.size()}, int64_t{1} << 30, 1, &rgb, &w, &h);
  *why = s.ToString();
  return s.ok();
}

void ExpectOk(const Bytes& j, const char* what) {
  const JpegStructure r = CheckJpegStructure(j.data(), j.size());
  EXPECT_TRUE(r.ok()) << what << ": " << r.Describe();
  std::string why;
  EXPECT_TRUE(CpuDecodes(j, &why)) << what << ": libjpeg-turbo rejects what the check passes: " << why;
}

// Rejected by the check; a bare TurboJPEG handle fails it or warns (a stream cut short).
void ExpectFlagged(const Bytes& j, JpegStructureProblem p, const char* what, const char* text) {
  const JpegStructure r = CheckJpegStructure(j.data(), j.size());
  EXPECT_EQ(static_cast<int>(r.problem), static_cast<int>(p)) << what << ": " << r.Describe();
  EXPECT_TRUE(preprocess::IsRejected(r.problem)) << what;
  EXPECT_NE(r.Describe().find(text), std::string::npos) << what << ": " << r.Describe();
  std::string why;
  EXPECT_FALSE(CpuDecodes(j, &why)) << what << ": the CPU path decodes what the check rejects";
  tjhandle t = tjInitDecompress();
  int w = 0, h = 0, sub = 0, cs = 0;
  bool clean = tjDecompressHeader3(t, j.data(), j.size(), &w, &h, &sub, &cs) == 0 && w > 0 && h > 0;
  if (clean) {
    std::vector<uint8_t> px(static_cast<size_t>(w) * h * 3);
    clean = tjDecompress2(t, j.data(), j.size(), px.data(), w, 0, h, TJPF_RGB, 0) == 0;
  }
  tjDestroy(t);
  EXPECT_FALSE(clean) << what << ": libjpeg-turbo decodes it without a word";
  std::printf("%-28s %s | CPU: %s\n", what, r.Describe().c_str(), why.c_str());
}

// Damage libjpeg-turbo decodes past: the check passes it, reports it, and the CPU path decodes a
// full image with a warning.
void ExpectDamage(const Bytes& j, JpegStructureProblem p, const char* what, const char* text) {
  const JpegStructure r = CheckJpegStructure(j.data(), j.size());
  EXPECT_TRUE(r.ok()) << what << ": " << r.Describe();
  EXPECT_EQ(static_cast<int>(r.damage), static_cast<int>(p)) << what << ": " << r.DescribeDamage();
  EXPECT_NE(r.DescribeDamage().find(text), std::string::npos) << what << ": " << r.DescribeDamage();
  std::string why;
  EXPECT_TRUE(CpuDecodes(j, &why)) << what << ": " << why;
  std::printf("%-28s %s\n", what, r.DescribeDamage().c_str());
}

TEST(PreprocessJpegStructure, GoodFilesPass) {
  const Bytes base = testing::RgbJpeg(500, 375, Pattern::kMixed, 90);
  ExpectOk(base, "baseline 4:2:0");
  EXPECT_EQ(CheckJpegStructure(base.data(), base.size()).scans, 1);
  EXPECT_EQ(CheckJpegStructure(base.data(), base.size()).offset, base.size());  // EOI is last
  ExpectOk(testing::EncodeJpeg(testing::MakeRgb(64, 48, Pattern::kNoise), 64, 48, TJPF_RGB, TJSAMP_444, 100),
           "baseline 4:4:4 noise q100");  // many FF 00 stuffings
  const Bytes prog = testing::RgbJpeg(640, 480, Pattern::kMixed, 85, TJFLAG_PROGRESSIVE);
  ExpectOk(prog, "progressive");
  EXPECT_GT(CheckJpegStructure(prog.data(), prog.size()).scans, 1);
  Bytes gray(120 * 80, 77);
  ExpectOk(testing::EncodeJpeg(gray, 120, 80, TJPF_GRAY, TJSAMP_GRAY, 90), "grayscale");
}

TEST(PreprocessJpegStructure, RestartIntervalPasses) {
  for (int flags : {0, TJFLAG_PROGRESSIVE}) {
    const Bytes j = WithRestartInterval(4, TJSAMP_420, flags);
    ASSERT_NE(Find(j, 0xDD, 2), 0u) << "TJ_RESTART gave no DRI marker: this libjpeg-turbo ignores it";
    ExpectOk(j, flags ? "progressive, restart 4 MCUs" : "baseline, restart 4 MCUs");
    // 300 MCUs at 4 per interval: the D0..D7 cycle wraps many times (per scan when progressive).
    EXPECT_GE(CheckJpegStructure(j.data(), j.size()).restarts, 70);
  }
}

TEST(PreprocessJpegStructure, RestartMarkerWithoutIntervalFlagged) {
  // As the GPU and bad-input tests corrupt an image: RST3 markers written over the middle of the
  // scan of an image with no DRI (nvJPEG decodes this without an error).
  Bytes j = testing::RgbJpeg(500, 375, Pattern::kMixed);
  for (size_t i = j.size() / 2; i < j.size() / 2 + 64; i += 2) { j[i] = 0xFF; j[i + 1] = 0xD3; }
  ExpectDamage(j, JpegStructureProblem::kRestartWithoutInterval, "RST without DRI", "no restart interval");
  // One RST0 right at the start of the scan.
  Bytes k = testing::RgbJpeg(500, 375, Pattern::kMixed);
  const size_t s = FirstScanData(k);
  ASSERT_GT(s, 0u);
  k.insert(k.begin() + s + 16, {0xFF, 0xD0});
  ExpectDamage(k, JpegStructureProblem::kRestartWithoutInterval, "one RST0 without DRI", "RST0");
}

TEST(PreprocessJpegStructure, RestartMarkerOutOfOrderFlagged) {
  Bytes j = WithRestartInterval(4, TJSAMP_420, 0);
  const size_t rst0 = Find(j, 0xD0, FirstScanData(j));
  ASSERT_GT(rst0, 0u);
  j[rst0 + 1] = 0xD5;  // RST5 where RST0 belongs
  ExpectDamage(j, JpegStructureProblem::kRestartOutOfOrder, "RST5 instead of RST0", "out of the RST0..RST7");
  Bytes k = WithRestartInterval(4, TJSAMP_420, 0);
  const size_t rst1 = Find(k, 0xD1, FirstScanData(k));
  ASSERT_GT(rst1, 0u);
  k.erase(k.begin() + rst1, k.begin() + rst1 + 2);  // a restart marker lost: RST2 follows RST0
  ExpectDamage(k, JpegStructureProblem::kRestartOutOfOrder, "RST1 missing", "RST2");
}

TEST(PreprocessJpegStructure, TruncatedFlagged) {
  const Bytes good = testing::RgbJpeg(500, 375, Pattern::kMixed);
  ExpectFlagged(Bytes(good.begin(), good.begin() + good.size() / 2), JpegStructureProblem::kTruncated,
                "cut in the scan", "truncated");
  ExpectFlagged(Bytes(good.begin(), good.end() - 2), JpegStructureProblem::kTruncated, "only EOI missing",
                "before the EOI");
  const Bytes prog = testing::RgbJpeg(640, 480, Pattern::kMixed, 85, TJFLAG_PROGRESSIVE);
  const size_t second_sos = Find(prog, 0xDA, FirstScanData(prog));
  ASSERT_GT(second_sos, 0u);
  ExpectFlagged(Bytes(prog.begin(), prog.begin() + second_sos + 3), JpegStructureProblem::kTruncated,
                "progressive cut in SOS", "truncated");
  // Cut inside the header segments: libjpeg-turbo already fails the header (ReadHeader).
  const JpegStructure r = CheckJpegStructure(good.data(), 100);
  EXPECT_EQ(static_cast<int>(r.problem), static_cast<int>(JpegStructureProblem::kTruncated)) << r.Describe();
}

TEST(PreprocessJpegStructure, TrailingBytesAfterEoiAllowed) {
  // Decision: allowed, as libjpeg-turbo (it stops at EOI, no warning) and as cameras write them.
  Bytes j = testing::RgbJpeg(500, 375, Pattern::kMixed);
  const size_t eoi_end = j.size();
  const Bytes tail = testing::MakeRgb(40, 40, Pattern::kNoise);  // includes FF bytes and "markers"
  j.insert(j.end(), tail.begin(), tail.end());
  j.insert(j.end(), {0xFF, 0xD3, 0xFF, 0xD8});
  ExpectOk(j, "4.8 kB of noise after EOI");
  EXPECT_EQ(CheckJpegStructure(j.data(), j.size()).offset, eoi_end);
  // FF fill bytes before a marker are legal (T.81 B.1.1.2).
  Bytes f = testing::RgbJpeg(200, 150, Pattern::kMixed);
  f.insert(f.end() - 2, {0xFF, 0xFF, 0xFF});
  ExpectOk(f, "fill bytes before EOI");
}

TEST(PreprocessJpegStructure, OtherDamageFlagged) {
  const Bytes good = testing::RgbJpeg(300, 200, Pattern::kMixed);
  // Bytes between two header segments (after the JFIF APP0 at offset 2).
  ASSERT_EQ(good[2], 0xFF);
  ASSERT_EQ(good[3], 0xE0);
  Bytes x = good;
  const size_t after_app0 = 4 + ((good[4] << 8) | good[5]);
  x.insert(x.begin() + after_app0, {0x12, 0x34});
  ExpectDamage(x, JpegStructureProblem::kExtraneousBytes, "bytes between segments", "extraneous");
  Bytes soi = good;
  soi.insert(soi.begin() + after_app0, {0xFF, 0xD8});
  ExpectFlagged(soi, JpegStructureProblem::kMalformedSegment, "second SOI", "ff d8");
  const std::string text = "not a jpeg at all";
  const JpegStructure t = CheckJpegStructure(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  EXPECT_EQ(static_cast<int>(t.problem), static_cast<int>(JpegStructureProblem::kNoSoi));
  EXPECT_FALSE(CheckJpegStructure(nullptr, 0).ok());
  const uint8_t soi_eoi[] = {0xFF, 0xD8, 0xFF, 0xD9};
  EXPECT_FALSE(CheckJpegStructure(soi_eoi, sizeof soi_eoi).ok());  // EOI before any scan
  Bytes sof = good;  // a second frame header before the scan
  const size_t sof0 = Find(good, 0xC0, 2);
  ASSERT_GT(sof0, 0u);
  const size_t sof_len = 2 + ((good[sof0 + 2] << 8) | good[sof0 + 3]);
  sof.insert(sof.begin() + sof0, good.begin() + sof0, good.begin() + sof0 + sof_len);
  ExpectFlagged(sof, JpegStructureProblem::kMalformedSegment, "second SOF", "second frame header");
  Bytes comp = good;  // the scan names component 9, which the frame lacks
  comp[Find(good, 0xDA, 2) + 5] = 9;
  ExpectFlagged(comp, JpegStructureProblem::kMalformedSegment, "SOS unknown component", "component");
}

// The n-th DHT segment's offset.
size_t NthDht(const Bytes& j, int n) {
  size_t p = 2;
  for (int k = 0;; ++k) {
    p = Find(j, 0xC4, p);
    if (p == 0 || k == n) return p;
    p += 2;
  }
}

TEST(PreprocessJpegStructure, BogusHuffmanTablesRejected) {
  const Bytes good = testing::RgbJpeg(300, 200, Pattern::kMixed);
  for (int n = 0; n < 4; ++n) {  // DC 0, AC 0, DC 1, AC 1 as TurboJPEG writes them
    Bytes j = good;
    uint8_t* bits = &j[NthDht(j, n) + 5];
    int l = 15;
    while (bits[l] < 2) --l;
    bits[l] -= 2;  // same symbol count, two codes moved to length 1: over-subscribed
    bits[0] += 2;
    ExpectFlagged(j, JpegStructureProblem::kBadHuffmanTable, "over-subscribed DHT", "over-subscribe");
  }
  Bytes count = good;
  count[NthDht(count, 0) + 5] = 3;  // more symbols than the segment holds
  ExpectFlagged(count, JpegStructureProblem::kBadHuffmanTable, "DHT count > length", "more symbols");
  Bytes sym = good;
  sym[NthDht(sym, 0) + 5 + 16] = 0x20;  // DC symbol 32 (DC categories are 0..15)
  ExpectFlagged(sym, JpegStructureProblem::kBadHuffmanTable, "DC symbol 32", "DC symbol");
  // A bogus table in a slot no scan uses is harmless (libjpeg-turbo never builds it).
  Bytes unused = good;
  const Bytes dht = {0xFF, 0xC4, 0x00, 0x15, 0x02, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2};
  unused.insert(unused.begin() + Find(good, 0xDA, 2), dht.begin(), dht.end());
  ExpectOk(unused, "bogus DC 2, unused");
  Bytes used = unused;  // ... and rejected once the scan uses it
  const size_t sos = Find(used, 0xDA, 2);
  used[sos + 6] = static_cast<uint8_t>(0x20 | (used[sos + 6] & 0x0F));
  ExpectFlagged(used, JpegStructureProblem::kBadHuffmanTable, "bogus DC 2, used", "DC 2");
}

TEST(PreprocessJpegStructure, TablesAScanUsesMustBeDefined) {
  const Bytes good = testing::RgbJpeg(300, 200, Pattern::kMixed);
  const auto strip = [&](uint8_t m) {
    Bytes out(good.begin(), good.begin() + 2);
    for (size_t p = 2; p < good.size();) {
      const size_t len = 2 + ((good[p + 2] << 8) | good[p + 3]);
      if (good[p + 1] == 0xDA) {
        out.insert(out.end(), good.begin() + p, good.end());
        break;
      }
      if (good[p + 1] != m) out.insert(out.end(), good.begin() + p, good.begin() + p + len);
      p += len;
    }
    return out;
  };
  ExpectFlagged(strip(0xDB), JpegStructureProblem::kMissingTable, "no DQT", "quantization table 0");
  const Bytes no_dht = strip(0xC4);  // Motion-JPEG style: libjpeg-turbo's standard tables
  ExpectOk(no_dht, "no DHT");
  EXPECT_TRUE(CheckJpegStructure(no_dht.data(), no_dht.size()).default_huffman_tables);
  EXPECT_FALSE(CheckJpegStructure(good.data(), good.size()).default_huffman_tables);
  Bytes slot3 = good;  // AC table 3 has no default
  const size_t sos = Find(slot3, 0xDA, 2);
  slot3[sos + 6] = static_cast<uint8_t>((slot3[sos + 6] & 0xF0) | 3);
  ExpectFlagged(slot3, JpegStructureProblem::kMissingTable, "AC 3 undefined", "Huffman table AC 3");
}

}  // namespace
}  // namespace optic
