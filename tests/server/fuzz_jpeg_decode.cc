// libFuzzer target for JPEG decoding as a worker does it: one JpegDecoder (one TurboJPEG handle)
// and the structural check (src/preprocess/jpeg_structure.cc) over every input in turn, the bytes
// a client uploads to a JPEG-in model. After each input a known-good image must still decode to
// the same pixels, so an input that leaves state behind in the decoder is a crash.
// Build: with clang (-fsanitize=fuzzer,address,undefined); run: fuzz_jpeg_decode -max_total_time=20
#include <turbojpeg.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "cpu/jpeg_decoder.h"

using namespace optic;
using namespace optic::preprocess;

namespace {

std::vector<uint8_t> KnownGood() {
  std::vector<uint8_t> px(48 * 32 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 7) ^ (i >> 4));
  tjhandle t = tjInitCompress();
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  if (tjCompress2(t, px.data(), 48, 0, 32, TJPF_RGB, &buf, &size, TJSAMP_420, 85, TJFLAG_PROGRESSIVE) != 0) std::abort();
  std::vector<uint8_t> out(buf, buf + size);
  tjFree(buf);
  tjDestroy(t);
  return out;
}

bool DecodeOnce(JpegDecoder* d, const uint8_t* data, size_t size, DecodedImage* img) {
  const ImageInput in{"fuzz", data, size};
  JpegHeader h;
  // A small pixel cap keeps each input's decode cheap.
  if (!d->ReadHeader(in, int64_t{1} << 22, &h).ok()) return false;
  return d->Decode(in, h, 1, 1, /*expand_gray=*/true, img).ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static JpegDecoder* decoder = new JpegDecoder();
  static const std::vector<uint8_t> good = KnownGood();
  static const std::vector<uint8_t> want = [] {
    JpegDecoder fresh;
    DecodedImage img;
    if (!DecodeOnce(&fresh, good.data(), good.size(), &img)) std::abort();
    return img.pixels;
  }();
  DecodedImage img;
  (void)DecodeOnce(decoder, data, size, &img);
  DecodedImage again;
  if (!DecodeOnce(decoder, good.data(), good.size(), &again) || again.pixels != want) std::abort();
  return 0;
}
