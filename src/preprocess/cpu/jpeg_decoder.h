// JpegDecoder: libjpeg-turbo (TurboJPEG API) decode of one image at a time, with the checks that
// turn bad input into a per-image Status before any pixel is decoded where possible.
// Ownership: owns one TurboJPEG handle and a reusable pixel buffer.
// Threading: one decoder per thread (a TurboJPEG handle is not thread-safe).
#pragma once

#include <cstdint>
#include <vector>

#include "optic/preprocess.h"

namespace optic::preprocess {

struct JpegHeader {
  int width = 0, height = 0;
  int subsamp = 0, colorspace = 0;  // TJSAMP_*, TJCS_*
};

// Decoded pixels, packed, `channels` = 1 (grayscale) or 3 (RGB; CMYK is converted).
struct DecodedImage {
  std::vector<uint8_t> pixels;
  int width = 0, height = 0, channels = 0;
};

class JpegDecoder {
 public:
  JpegDecoder();
  ~JpegDecoder();
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  // Zero bytes, a missing SOI marker, an unreadable header and width*height > max_pixels fail
  // with kInvalidArgument and a message "image '<name>': <reason>".
  Status ReadHeader(const ImageInput& image, int64_t max_pixels, JpegHeader* header);
  // Decodes at TurboJPEG scaling factor num/denom. Grayscale stays 1 channel unless
  // expand_gray; CMYK/YCCK become RGB (Adobe's inverted CMYK, as libjpeg-turbo stores it).
  // Any libjpeg warning (truncated data, corrupt entropy segment) fails the image: the pixels it
  // would give are partly invented.
  Status Decode(const ImageInput& image, const JpegHeader& header, int num, int denom,
                bool expand_gray, DecodedImage* out);

 private:
  void* handle_ = nullptr;  // tjhandle
  std::vector<uint8_t> cmyk_;
};

}  // namespace optic::preprocess
