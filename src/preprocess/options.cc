// Options and names of include/optic/preprocess.h. In optic_preprocess_cpu, not next to the
// factory, because the CUDA preprocessor (a shared library) needs them too: a shared library
// cannot take them from the static optic_preprocess that in turn depends on it.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "optic/backend.h"
#include "optic/preprocess.h"

namespace optic {

const char* ResizeFilterName(ResizeFilter f) {
  switch (f) {
    case ResizeFilter::kBilinear: return "bilinear";
    case ResizeFilter::kAntialias: return "antialias";
    case ResizeFilter::kArea: return "area";
  }
  return "?";
}

Status ParseResizeFilter(const std::string& text, ResizeFilter* out) {
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "bilinear") *out = ResizeFilter::kBilinear;
  else if (t == "antialias") *out = ResizeFilter::kAntialias;
  else if (t == "area") *out = ResizeFilter::kArea;
  else return Status::InvalidArgument("unknown resize filter '" + text + "' (bilinear, antialias, area)");
  return Status::OK();
}

Status ValidatePreprocessOptions(const PreprocessOptions& o) {
  if (o.crop_width < 1 || o.crop_height < 1 || o.crop_width > 16384 || o.crop_height > 16384) {
    return Status::InvalidArgument("preprocess: crop size must be in [1, 16384]");
  }
  if (o.resize_shorter < 0 ||
      (o.resize_shorter > 0 && o.resize_shorter < std::max(o.crop_width, o.crop_height))) {
    return Status::InvalidArgument("preprocess: resize_shorter (" + std::to_string(o.resize_shorter) +
                                   ") must be 0 or at least the crop size");
  }
  if (o.dtype != DType::kFP32 && o.dtype != DType::kFP16) {
    return Status::Unsupported(std::string("preprocess: output dtype ") + DTypeName(o.dtype) +
                               " (fp32 or fp16)");
  }
  for (float s : o.std) {
    if (!(s != 0.0f)) return Status::InvalidArgument("preprocess: std must be non-zero");
  }
  if (o.max_pixels < 1) return Status::InvalidArgument("preprocess: max_pixels must be positive");
  return Status::OK();
}

Status PreprocessOptionsForInput(const TensorInfo& input, const Layout* layout,
                                 PreprocessOptions* out) {
  const Shape& s = input.shape;
  const std::string what = "model input '" + input.name + "' ";
  if (s.size() != 4 || (s[1] != 3 && s[3] != 3)) {
    return Status::Unsupported(what + "has shape " + ShapeToString(s) +
                               "; an image batch [N,3,H,W] or [N,H,W,3] is needed");
  }
  PreprocessOptions o;
  if (layout != nullptr) {
    o.layout = *layout;
    if ((o.layout == Layout::kNCHW ? s[1] : s[3]) != 3) {
      return Status::Unsupported(what + "has shape " + ShapeToString(s) + ", not an RGB image in " +
                                 (o.layout == Layout::kNCHW ? "NCHW" : "NHWC"));
    }
  } else if (s[1] == 3 && s[3] == 3) {
    return Status::Unsupported(what + "has shape " + ShapeToString(s) +
                               ", which reads as NCHW and as NHWC: name its layout");
  } else {
    o.layout = s[1] == 3 ? Layout::kNCHW : Layout::kNHWC;
  }
  const int64_t h = o.layout == Layout::kNCHW ? s[2] : s[1];
  const int64_t w = o.layout == Layout::kNCHW ? s[3] : s[2];
  if (h <= 0 || w <= 0 || h > 16384 || w > 16384) {
    return Status::Unsupported(what + "has shape " + ShapeToString(s) +
                               "; preprocessing needs a fixed height and width (1..16384)");
  }
  if (input.dtype != DType::kFP32 && input.dtype != DType::kFP16) {
    return Status::Unsupported(what + "is " + DTypeName(input.dtype) + "; preprocessing writes fp32 or fp16");
  }
  o.dtype = input.dtype;
  o.crop_height = static_cast<int>(h);
  o.crop_width = static_cast<int>(w);
  o.resize_shorter = static_cast<int>(std::lround(static_cast<double>(std::max(h, w)) * 256.0 / 224.0));
  *out = o;
  return Status::OK();
}

Shape PreprocessBatchShape(const PreprocessOptions& o, int64_t n) {
  if (o.layout == Layout::kNCHW) return {n, 3, o.crop_height, o.crop_width};
  return {n, o.crop_height, o.crop_width, 3};
}

}  // namespace optic
