// JpegDecoder: libjpeg-turbo (TurboJPEG API) decode of one image at a time, with the checks that
// turn bad input into a per-image Status before any pixel is decoded where possible.
// Ownership: owns one TurboJPEG handle and a reusable pixel buffer.
// Threading: one decoder per thread (a TurboJPEG handle is not thread-safe).
// State: one decoder serves many images, and nothing one image leaves in the handle reaches the
// next. libjpeg keeps Huffman and quantization tables in its decompressor across images (for
// abbreviated streams), and TurboJPEG leaves a failed header read inside the marker segment
// that failed, so the next image's bytes would be parsed as that segment's continuation. The
// handle is therefore replaced after every failed or warning header read or decode, and before
// an image that uses tables it does not define (the structural check says which).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "optic/preprocess.h"

namespace optic::preprocess {

struct JpegHeader {
  int width = 0, height = 0;
  int subsamp = 0, colorspace = 0;  // TJSAMP_*, TJCS_*
  // From the structural check (jpeg_structure.h): damage libjpeg-turbo decodes past ("" when
  // none), and whether a scan relies on the standard Huffman tables.
  std::string damage;
  bool default_huffman_tables = false;
};

// Decoded pixels, packed, `channels` = 1 (grayscale) or 3 (RGB; CMYK is converted).
struct DecodedImage {
  std::vector<uint8_t> pixels;
  int width = 0, height = 0, channels = 0;
  std::string warning;  // libjpeg-turbo's first warning when the data was damaged, else ""
};

class JpegDecoder {
 public:
  JpegDecoder();
  ~JpegDecoder();
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  // Zero bytes, a missing SOI marker, what the structural check rejects (truncated data, bad
  // marker segments or tables), an unreadable header and width*height > max_pixels fail with
  // kInvalidArgument and a message "image '<name>': <reason>".
  Status ReadHeader(const ImageInput& image, int64_t max_pixels, JpegHeader* header);
  // Decodes at TurboJPEG scaling factor num/denom. Grayscale stays 1 channel unless
  // expand_gray; CMYK/YCCK become RGB (Adobe's inverted CMYK, as libjpeg-turbo stores it).
  // Damaged entropy-coded data that libjpeg-turbo decodes past (with a warning) still gives a
  // full image: it is accepted, as PIL and torchvision do, with the warning in out->warning.
  // A libjpeg-turbo error fails the image.
  Status Decode(const ImageInput& image, const JpegHeader& header, int num, int denom,
                bool expand_gray, DecodedImage* out);

 private:
  void Reset();  // a new TurboJPEG handle: no tables or marker-reader state from earlier images

  void* handle_ = nullptr;  // tjhandle
  std::vector<uint8_t> cmyk_;
};

}  // namespace optic::preprocess
