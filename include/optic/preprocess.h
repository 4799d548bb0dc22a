// Image preprocessing: JPEG bytes in, a normalized model-input batch out.
//
// The pipeline per image is decode -> resize (shorter side, or straight to the crop size) -> center
// crop -> (x * scale - mean) / std -> fp32/fp16, NCHW/NHWC, written into row i of a caller-owned
// batch tensor. This is torchvision's Resize(256) + CenterCrop(224) + ToTensor + Normalize.
//
// Two implementations behind one interface: the CPU one (libjpeg-turbo, a thread pool over the
// images of a batch) and, when optic is built with CUDA, the GPU one (nvJPEG batched decode, one
// fused kernel, per-image fallback to the CPU decoder).
//
// Ownership: the caller owns the JPEG bytes (they must outlive Run) and the batch tensor.
// Threading: a Preprocessor runs one batch at a time; Run is not reentrant. Different
// Preprocessors may run concurrently.
// Failure: an image that cannot be used (zero bytes, not a JPEG, truncated or corrupt, over the
// pixel cap) gets its own Status naming the image and the reason; its batch row is zero-filled and
// the other images complete. Run itself fails only for a bad batch tensor or a broken device.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "optic/status.h"
#include "optic/tensor.h"

namespace optic {

enum class ResizeFilter {
  kBilinear,   // 2x2 taps, half-pixel centers (cv2.INTER_LINEAR, torch interpolate antialias=False)
  kAntialias,  // triangle filter widened by the downscale factor (PIL BILINEAR, antialias=True)
  kArea,       // box filter over the source footprint (cv2.INTER_AREA for downscales)
};
const char* ResizeFilterName(ResizeFilter f);
Status ParseResizeFilter(const std::string& text, ResizeFilter* out);  // bilinear|antialias|area

enum class Layout { kNCHW, kNHWC };

struct TensorInfo;  // optic/backend.h

struct PreprocessOptions {
  // Shorter side is resized to this, keeping the aspect ratio; 0 resizes straight to the crop
  // size (aspect ratio not kept).
  int resize_shorter = 256;
  int crop_height = 224;
  int crop_width = 224;
  ResizeFilter filter = ResizeFilter::kAntialias;
  // Decode at a reduced DCT scale (1/2, 1/4, 1/8) when the result is still at least the resize
  // target. Much faster for large images; changes pixels slightly against a full decode + resize.
  bool dct_scaling = true;
  // out = (pixel * scale - mean[c]) / std[c], channels in RGB order.
  float scale = 1.0f / 255.0f;
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
  DType dtype = DType::kFP32;  // kFP32 or kFP16
  Layout layout = Layout::kNCHW;
  // Decompression-bomb guard: width * height from the JPEG header above this fails the image
  // before any pixel is decoded.
  int64_t max_pixels = 100'000'000;
  int threads = 0;  // CPU worker threads over the images of a batch; 0 = hardware concurrency
};

// Checks ranges and that dtype/layout are supported.
Status ValidatePreprocessOptions(const PreprocessOptions& o);

// The preprocessing that fits a model's image input, the one rule of the server's JPEG-in stage
// and bench's e2e cells (docs/preprocess.md, "Fitting a model input"): the input is [N,3,H,W] or
// [N,H,W,3] with fixed H and W (N any); the crop is H x W; the shorter side is resized to
// round(max(H, W) * 256 / 224), torchvision's ImageNet evaluation (Resize(256) + CenterCrop(224))
// for a square input, and for a non-square one the size at which the H x W crop fits inside the
// resized image whichever way the image is oriented; ImageNet mean and std; the input's dtype
// (FP32 or FP16). `layout` is the caller's when it knows it (a server config); otherwise NCHW
// when dim 1 is 3 and dim 3 is not, NHWC when dim 3 is 3 and dim 1 is not, and an input that
// fits both ([N,3,H,3]) asks for it. Every other field of *out gets PreprocessOptions' default.
// Failure: kUnsupported naming the input and what it lacks; *out is then unchanged.
Status PreprocessOptionsForInput(const TensorInfo& input, const Layout* layout,
                                 PreprocessOptions* out);
// The batch shape Run expects for n images: [n,3,H,W] or [n,H,W,3].
Shape PreprocessBatchShape(const PreprocessOptions& o, int64_t n);

struct ImageInput {
  std::string name;  // used in error messages (a file name, a request id)
  const uint8_t* data = nullptr;
  size_t size = 0;
};

struct ImageResult {
  Status status;
  int width = 0, height = 0;                  // from the JPEG header
  int decoded_width = 0, decoded_height = 0;  // after DCT scaling
  bool fallback = false;                      // GPU path: decoded on the CPU instead
  // Damage that still decoded to a full image (the image is used): libjpeg-turbo's first warning
  // ("Corrupt JPEG data: ...") or the structural check's finding; empty when the data was clean.
  std::string warning;
};

// Time spent per stage in one Run. CPU: decode_ms and resize_ms are summed over worker threads
// (CPU time); wall_ms is the elapsed time of Run. GPU: stage times are elapsed on the host.
struct PreprocessTimings {
  double decode_ms = 0;
  double resize_ms = 0;  // resize + crop + normalize + layout + dtype
  double copy_ms = 0;    // GPU: host-to-device of the JPEG bytes
  double wall_ms = 0;
};

class Preprocessor {
 public:
  virtual ~Preprocessor() = default;
  // Fills rows [0, images.size()) of *batch (shape PreprocessBatchShape(options, >= n), the
  // options' dtype, on device()). `results` gets one entry per image. `stream` is a cudaStream_t
  // for the GPU implementation (nullptr = its own stream; Run returns when the batch is written);
  // ignored on the CPU.
  virtual Status Run(const std::vector<ImageInput>& images, Tensor* batch,
                     std::vector<ImageResult>* results, void* stream = nullptr) = 0;
  // A batch tensor for n images on device(), owning its memory (host memory on the CPU, device
  // memory on a GPU), so callers need no device allocator of their own.
  virtual Status AllocateBatch(int64_t n, Tensor* out) = 0;
  // Copies a batch made by this preprocessor into new host memory (a copy on the CPU too).
  virtual Status BatchToHost(const Tensor& batch, Tensor* host) = 0;
  virtual Device device() const = 0;
  virtual const PreprocessOptions& options() const = 0;
  virtual const PreprocessTimings& last_timings() const = 0;
};

// CPU on Device{kCPU}; GPU on Device{kCUDA, i}: kUnsupportedHardware when optic was built
// without CUDA or no device is present.
Status CreatePreprocessor(const PreprocessOptions& options, Device device,
                          std::unique_ptr<Preprocessor>* out);

// Single-image CPU decode to packed 8-bit RGB (grayscale expanded, CMYK converted), with the pixel
// cap and the same error messages as the batch path. `scale_denom` > 1 asks for a DCT-scaled
// decode by 1/scale_denom where TurboJPEG supports it (1..8). For tests and the GPU fallback.
Status DecodeJpegRgb(const ImageInput& image, int64_t max_pixels, int scale_denom,
                     std::vector<uint8_t>* rgb, int* width, int* height);

}  // namespace optic
