#include "jpeg_decoder.h"

#include <turbojpeg.h>

#include <cstdio>
#include <string>

#include "../jpeg_structure.h"

namespace optic::preprocess {

namespace {

Status Bad(const ImageInput& image, const std::string& reason) {
  return Status::InvalidArgument("image '" + image.name + "': " + reason);
}

std::string TjError(void* handle) {
  const char* e = tjGetErrorStr2(static_cast<tjhandle>(handle));
  return e ? e : "unknown libjpeg-turbo error";
}

}  // namespace

JpegDecoder::JpegDecoder() : handle_(tjInitDecompress()) {}

JpegDecoder::~JpegDecoder() {
  if (handle_) tjDestroy(static_cast<tjhandle>(handle_));
}

void JpegDecoder::Reset() {
  if (handle_) tjDestroy(static_cast<tjhandle>(handle_));
  handle_ = tjInitDecompress();
}

Status JpegDecoder::ReadHeader(const ImageInput& image, int64_t max_pixels, JpegHeader* header) {
  if (handle_ == nullptr) return Status::Internal("tjInitDecompress failed");
  if (image.data == nullptr || image.size == 0) return Bad(image, "zero bytes (empty file)");
  if (image.size < 4 || image.data[0] != 0xFF || image.data[1] != 0xD8) {
    char got[32];
    std::snprintf(got, sizeof got, "%02x %02x", image.data[0], image.size > 1 ? image.data[1] : 0);
    return Bad(image, std::string("not a JPEG (starts with bytes ") + got + ", expected ff d8)");
  }
  const JpegStructure js = CheckJpegStructure(image.data, image.size);
  if (!js.ok()) {
    const bool in_data = js.problem == JpegStructureProblem::kTruncated && js.scans > 0;
    return Bad(image, std::string(in_data ? "truncated or corrupt JPEG data (" : "corrupt JPEG header (") +
                          js.Describe() + ")");
  }
  header->damage = js.DescribeDamage();
  header->default_huffman_tables = js.default_huffman_tables;
  header->width = header->height = 0;
  if (tjDecompressHeader3(static_cast<tjhandle>(handle_), image.data, image.size, &header->width,
                          &header->height, &header->subsamp, &header->colorspace) != 0) {
    // A warning (extraneous bytes between segments) still reads the whole header.
    const bool warning = tjGetErrorCode(static_cast<tjhandle>(handle_)) == TJERR_WARNING &&
                         header->width > 0 && header->height > 0;
    const Status s = Bad(image, "corrupt JPEG header (libjpeg-turbo: " + TjError(handle_) + ")");
    Reset();
    if (!warning) return s;
  }
  if (header->width <= 0 || header->height <= 0) return Bad(image, "corrupt JPEG header (no image size: the data ends before the frame header)");
  const int64_t pixels = static_cast<int64_t>(header->width) * header->height;
  if (pixels > max_pixels) {
    return Bad(image, "decompression bomb guard: " + std::to_string(header->width) + "x" +
                          std::to_string(header->height) + " = " + std::to_string(pixels) +
                          " pixels exceeds the cap of " + std::to_string(max_pixels) +
                          " (--max-pixels)");
  }
  return Status::OK();
}

Status JpegDecoder::Decode(const ImageInput& image, const JpegHeader& header, int num, int denom,
                           bool expand_gray, DecodedImage* out) {
  const tjscalingfactor sf{num, denom};
  out->width = TJSCALED(header.width, sf);
  out->height = TJSCALED(header.height, sf);
  const bool cmyk = header.colorspace == TJCS_CMYK || header.colorspace == TJCS_YCCK;
  const bool gray = header.colorspace == TJCS_GRAY && !expand_gray;
  int pf = TJPF_RGB;
  if (cmyk) pf = TJPF_CMYK;
  else if (gray) pf = TJPF_GRAY;
  out->channels = gray ? 1 : 3;
  const size_t npix = static_cast<size_t>(out->width) * out->height;
  std::vector<uint8_t>& dst = cmyk ? cmyk_ : out->pixels;
  dst.resize(npix * tjPixelSize[pf]);
  // Fast DCT/upsampling are not used: they change pixels against the reference decoders.
  const int flags = 0;
  if (header.default_huffman_tables) Reset();  // libjpeg fills only empty slots with them
  if (handle_ == nullptr) return Status::Internal("tjInitDecompress failed");
  out->warning.clear();
  if (tjDecompress2(static_cast<tjhandle>(handle_), image.data, image.size, dst.data(), out->width,
                    0, out->height, pf, flags) != 0) {
    const bool warning = tjGetErrorCode(static_cast<tjhandle>(handle_)) == TJERR_WARNING;
    const std::string e = TjError(handle_);
    Reset();
    if (!warning) return Bad(image, "JPEG decode failed (libjpeg-turbo: " + e + ")");
    out->warning = "libjpeg-turbo: " + e;
    if (!header.damage.empty()) out->warning += "; " + header.damage;
  }
  if (cmyk) {
    // libjpeg-turbo's own CMYK->RGB (tjutil cmyk.h): inverted CMYK as Adobe writes it,
    // R = C * K / 255.
    out->pixels.resize(npix * 3);
    const uint8_t* s = cmyk_.data();
    uint8_t* d = out->pixels.data();
    for (size_t i = 0; i < npix; ++i, s += 4, d += 3) {
      const int k = s[3];
      d[0] = static_cast<uint8_t>((s[0] * k + 127) / 255);
      d[1] = static_cast<uint8_t>((s[1] * k + 127) / 255);
      d[2] = static_cast<uint8_t>((s[2] * k + 127) / 255);
    }
  }
  return Status::OK();
}

}  // namespace optic::preprocess
