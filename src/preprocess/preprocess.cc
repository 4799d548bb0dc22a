// The factory and helpers of include/optic/preprocess.h (options and names: options.cc).
#include "optic/preprocess.h"

#include <algorithm>
#include <cctype>

#include "cpu/cpu_preprocessor.h"
#include "cpu/jpeg_decoder.h"
#ifdef OPTIC_PREPROCESS_HAVE_CUDA
#include "cuda/cuda_preprocessor.h"
#endif

namespace optic {

Status CreatePreprocessor(const PreprocessOptions& options, Device device,
                          std::unique_ptr<Preprocessor>* out) {
  if (device.is_cpu()) return preprocess::CreateCpuPreprocessor(options, out);
#ifdef OPTIC_PREPROCESS_HAVE_CUDA
  return preprocess::CreateCudaPreprocessor(options, device.index, out);
#else
  return Status::UnsupportedHardware("preprocess: optic was built without CUDA (OPTIC_WITH_CUDA)");
#endif
}

Status DecodeJpegRgb(const ImageInput& image, int64_t max_pixels, int scale_denom,
                     std::vector<uint8_t>* rgb, int* width, int* height) {
  if (scale_denom != 1 && scale_denom != 2 && scale_denom != 4 && scale_denom != 8) {
    return Status::InvalidArgument("DecodeJpegRgb: scale_denom must be 1, 2, 4 or 8");
  }
  preprocess::JpegDecoder dec;
  preprocess::JpegHeader h;
  OPTIC_RETURN_IF_ERROR(dec.ReadHeader(image, max_pixels, &h));
  preprocess::DecodedImage img;
  OPTIC_RETURN_IF_ERROR(dec.Decode(image, h, 1, scale_denom, /*expand_gray=*/true, &img));
  *rgb = std::move(img.pixels);
  *width = img.width;
  *height = img.height;
  return Status::OK();
}

}  // namespace optic
