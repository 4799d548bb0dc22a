#include "cuda_preprocessor.h"

#include <turbojpeg.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "cpu/cpu_preprocessor.h"
#include "cpu/jpeg_decoder.h"
#include "cuda_buffers.h"
#include "geometry.h"
#include "nvjpeg_decoder.h"
#include "resize_kernel.h"

namespace optic::preprocess {

namespace {

enum class Route { kFail, kBatched, kSingle, kCpu };

size_t Align(size_t n) { return (n + 15) & ~size_t{15}; }

class CudaPreprocessor final : public Preprocessor {
 public:
  CudaPreprocessor(const PreprocessOptions& o, int device) : options_(o), device_{DeviceType::kCUDA, device} {}

  ~CudaPreprocessor() override {
    cudaSetDevice(device_.index);
    if (pending_) cudaEventSynchronize(ev_done_);
    for (cudaEvent_t e : {ev_start_, ev_decoded_, ev_done_}) if (e) cudaEventDestroy(e);
    if (own_stream_) cudaStreamDestroy(own_stream_);
  }

  Status Init() {
    OPTIC_RETURN_IF_ERROR(CudaCheck(cudaSetDevice(device_.index), "cudaSetDevice"));
    OPTIC_RETURN_IF_ERROR(CudaCheck(cudaStreamCreateWithFlags(&own_stream_, cudaStreamNonBlocking), "stream"));
    for (cudaEvent_t* e : {&ev_start_, &ev_decoded_, &ev_done_}) {
      OPTIC_RETURN_IF_ERROR(CudaCheck(cudaEventCreate(e), "event"));
    }
    return NvjpegDecoder::Create(&nvjpeg_);
  }

  Status AllocateBatch(int64_t n, Tensor* out) override {
    OPTIC_RETURN_IF_ERROR(CudaCheck(cudaSetDevice(device_.index), "cudaSetDevice"));
    const Shape shape = PreprocessBatchShape(options_, n);
    void* p = nullptr;
    const size_t bytes = static_cast<size_t>(ShapeNumel(shape)) * DTypeSize(options_.dtype);
    OPTIC_RETURN_IF_ERROR(CudaCheck(cudaMalloc(&p, bytes > 0 ? bytes : 1), "cudaMalloc (batch)"));
    std::shared_ptr<void> holder(p, [](void* q) { cudaFree(q); });
    *out = Tensor::FromHolder(std::move(holder), p, options_.dtype, shape, device_);
    return Status::OK();
  }

  Status BatchToHost(const Tensor& batch, Tensor* host) override {
    OPTIC_RETURN_IF_ERROR(Tensor::Empty(batch.dtype(), batch.shape(), host));
    if (pending_) OPTIC_RETURN_IF_ERROR(CudaCheck(cudaEventSynchronize(ev_done_), "sync"));
    return CudaCheck(cudaMemcpy(host->raw(), batch.raw(), batch.nbytes(), cudaMemcpyDeviceToHost),
                     "cudaMemcpy (batch to host)");
  }

  Device device() const override { return device_; }
  const PreprocessOptions& options() const override { return options_; }
  const PreprocessTimings& last_timings() const override { return timings_; }

  Status Run(const std::vector<ImageInput>& images, Tensor* batch,
             std::vector<ImageResult>* results, void* stream) override;

 private:
  Status StageJpegs(const std::vector<ImageInput>& images);
  Status DecodeAll(const std::vector<ImageInput>& images, cudaStream_t st,
                   std::vector<ImageResult>* results);
  Status CpuFallback(const std::vector<ImageInput>& images, cudaStream_t st,
                     std::vector<ImageResult>* results);
  Status LaunchKernel(size_t n, cudaStream_t st, void* out);

  PreprocessOptions options_;
  Device device_;
  std::unique_ptr<NvjpegDecoder> nvjpeg_;
  JpegDecoder cpu_decoder_;
  cudaStream_t own_stream_ = nullptr;
  cudaEvent_t ev_start_ = nullptr, ev_decoded_ = nullptr, ev_done_ = nullptr;
  bool pending_ = false;
  PinnedBuffer pinned_jpeg_, pinned_pixels_, pinned_meta_;
  DeviceBuffer device_meta_;
  std::vector<DeviceBuffer> slots_;  // decoded RGB per batch row
  std::vector<Route> routes_;
  std::vector<JpegHeader> headers_;
  std::vector<const unsigned char*> staged_;
  std::vector<std::string> gpu_errors_;
  PreprocessTimings timings_;
};

Status CudaPreprocessor::Run(const std::vector<ImageInput>& images, Tensor* batch,
                             std::vector<ImageResult>* results, void* stream) {
  const auto t0 = std::chrono::steady_clock::now();
  OPTIC_RETURN_IF_ERROR(CheckBatch(options_, *batch, images.size(), device_));
  OPTIC_RETURN_IF_ERROR(CudaCheck(cudaSetDevice(device_.index), "cudaSetDevice"));
  // The previous Run's kernel may still read the pinned staging buffers reused below.
  if (pending_) OPTIC_RETURN_IF_ERROR(CudaCheck(cudaEventSynchronize(ev_done_), "sync"));
  pending_ = false;
  cudaStream_t st = stream ? static_cast<cudaStream_t>(stream) : own_stream_;
  const size_t n = images.size();
  results->assign(n, ImageResult{});
  routes_.assign(n, Route::kFail);
  headers_.assign(n, JpegHeader{});
  gpu_errors_.assign(n, std::string());
  OPTIC_RETURN_IF_ERROR(CudaCheck(cudaEventRecord(ev_start_, st), "event"));

  // Headers on the CPU with the CPU path's checks (and messages): nothing over the pixel cap or
  // not a JPEG reaches a decoder.
  for (size_t i = 0; i < n; ++i) {
    ImageResult& r = (*results)[i];
    r.status = cpu_decoder_.ReadHeader(images[i], options_.max_pixels, &headers_[i]);
    if (!r.status.ok()) continue;
    r.width = r.decoded_width = headers_[i].width;
    r.height = r.decoded_height = headers_[i].height;
    const bool cmyk = headers_[i].colorspace == TJCS_CMYK || headers_[i].colorspace == TJCS_YCCK;
    // ReadHeader ran the structural check shared with the CPU path, so truncated files and bad
    // headers already failed. Damage libjpeg-turbo decodes past (stray or out-of-order RSTn,
    // extraneous bytes) and scans relying on the standard Huffman tables go to libjpeg-turbo, so
    // they give the CPU path's pixels and warning whatever nvJPEG would make of them. nvJPEG's
    // RGB output skips Adobe CMYK, so CMYK goes there too.
    if (cmyk || !headers_[i].damage.empty() || headers_[i].default_huffman_tables) routes_[i] = Route::kCpu;
    else routes_[i] = nvjpeg_->BatchedSupports(images[i].data, images[i].size) ? Route::kBatched : Route::kSingle;
  }
  OPTIC_RETURN_IF_ERROR(StageJpegs(images));
  OPTIC_RETURN_IF_ERROR(DecodeAll(images, st, results));
  OPTIC_RETURN_IF_ERROR(CpuFallback(images, st, results));
  OPTIC_RETURN_IF_ERROR(CudaCheck(cudaEventRecord(ev_decoded_, st), "event"));
  OPTIC_RETURN_IF_ERROR(LaunchKernel(n, st, batch->raw()));
  OPTIC_RETURN_IF_ERROR(CudaCheck(cudaEventRecord(ev_done_, st), "event"));
  pending_ = true;
  timings_ = {};
  if (stream == nullptr) {
    OPTIC_RETURN_IF_ERROR(CudaCheck(cudaEventSynchronize(ev_done_), "sync"));
    pending_ = false;
    float dec = 0, rs = 0;
    cudaEventElapsedTime(&dec, ev_start_, ev_decoded_);
    cudaEventElapsedTime(&rs, ev_decoded_, ev_done_);
    timings_.decode_ms = dec;
    timings_.resize_ms = rs;
    timings_.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  return Status::OK();
}

// JPEG bytes go through one pinned buffer so nvJPEG's host-to-device copies run at full speed.
Status CudaPreprocessor::StageJpegs(const std::vector<ImageInput>& images) {
  size_t total = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    if (routes_[i] == Route::kBatched || routes_[i] == Route::kSingle) total += Align(images[i].size);
  }
  OPTIC_RETURN_IF_ERROR(pinned_jpeg_.Reserve(total));
  staged_.assign(images.size(), nullptr);
  size_t off = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    if (routes_[i] != Route::kBatched && routes_[i] != Route::kSingle) continue;
    unsigned char* dst = pinned_jpeg_.get<unsigned char>() + off;
    std::memcpy(dst, images[i].data, images[i].size);
    staged_[i] = dst;
    off += Align(images[i].size);
  }
  return Status::OK();
}

Status CudaPreprocessor::DecodeAll(const std::vector<ImageInput>& images, cudaStream_t st,
                                   std::vector<ImageResult>* results) {
  const size_t n = images.size();
  if (slots_.size() < n) slots_.resize(n);
  std::vector<nvjpegImage_t> dest(n);
  for (size_t i = 0; i < n; ++i) {
    if (routes_[i] == Route::kFail) continue;
    const size_t pitch = static_cast<size_t>(headers_[i].width) * 3;
    OPTIC_RETURN_IF_ERROR(slots_[i].Reserve(pitch * headers_[i].height));
    std::memset(&dest[i], 0, sizeof(nvjpegImage_t));
    dest[i].channel[0] = slots_[i].get<unsigned char>();
    dest[i].pitch[0] = pitch;
  }
  std::vector<size_t> idx;
  std::vector<const unsigned char*> data;
  std::vector<size_t> sizes;
  std::vector<nvjpegImage_t> bdest;
  for (size_t i = 0; i < n; ++i) {
    if (routes_[i] != Route::kBatched) continue;
    idx.push_back(i);
    data.push_back(staged_[i]);
    sizes.push_back(images[i].size);
    bdest.push_back(dest[i]);
  }
  Status s = nvjpeg_->DecodeBatched(data, sizes, &bdest, st);
  if (!s.ok()) {  // one bad image fails the whole batched call: retry each on its own
    for (size_t i : idx) routes_[i] = Route::kSingle;
  }
  for (size_t i = 0; i < n; ++i) {
    if (routes_[i] != Route::kSingle) continue;
    s = nvjpeg_->DecodeOne(staged_[i], images[i].size, &dest[i], st);
    if (!s.ok()) {
      gpu_errors_[i] = s.message();
      routes_[i] = Route::kCpu;
    }
  }
  (void)results;
  return Status::OK();
}

// What nvJPEG rejected (or CMYK) is decoded by libjpeg-turbo and uploaded. An image the CPU
// cannot decode either fails with the CPU's reason (and nvJPEG's, when it tried).
Status CudaPreprocessor::CpuFallback(const std::vector<ImageInput>& images, cudaStream_t st,
                                     std::vector<ImageResult>* results) {
  std::vector<std::pair<size_t, DecodedImage>> done;
  size_t total = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    if (routes_[i] != Route::kCpu) continue;
    DecodedImage img;
    Status s = cpu_decoder_.Decode(images[i], headers_[i], 1, 1, /*expand_gray=*/true, &img);
    if (!s.ok()) {
      routes_[i] = Route::kFail;
      (*results)[i].status = gpu_errors_[i].empty() ? s : s.Prefixed(gpu_errors_[i]);
      continue;
    }
    (*results)[i].fallback = true;
    (*results)[i].warning = img.warning;
    total += Align(img.pixels.size());
    done.emplace_back(i, std::move(img));
  }
  if (done.empty()) return Status::OK();
  OPTIC_RETURN_IF_ERROR(pinned_pixels_.Reserve(total));
  size_t off = 0;
  for (auto& [i, img] : done) {
    uint8_t* dst = pinned_pixels_.get<uint8_t>() + off;
    std::memcpy(dst, img.pixels.data(), img.pixels.size());
    OPTIC_RETURN_IF_ERROR(CudaCheck(cudaMemcpyAsync(slots_[i].get(), dst, img.pixels.size(),
                                                    cudaMemcpyHostToDevice, st), "upload"));
    off += Align(img.pixels.size());
  }
  return Status::OK();
}

// Coefficients for every image, from the same host code the CPU path uses, in one pinned block
// and one copy; then the single kernel launch for the batch.
Status CudaPreprocessor::LaunchKernel(size_t n, cudaStream_t st, void* out) {
  const PreprocessOptions& o = options_;
  std::vector<GpuJob> jobs(n);
  std::vector<int> ints;
  std::vector<float> floats;
  for (size_t i = 0; i < n; ++i) {
    if (routes_[i] == Route::kFail) continue;
    const int w = headers_[i].width, h = headers_[i].height;
    const ResizeGeometry g = ComputeGeometry(o, w, h);
    const AxisCoeffs cx = ComputeAxisCoeffs(o.filter, w, g.resized_w, g.crop_x, g.crop_w);
    const AxisCoeffs cy = ComputeAxisCoeffs(o.filter, h, g.resized_h, g.crop_y, g.crop_h);
    GpuJob& j = jobs[i];
    j.src = slots_[i].get<uint8_t>();
    j.pitch = w * 3;
    j.taps_x = cx.taps;
    j.taps_y = cy.taps;
    j.int_offset = static_cast<int>(ints.size());
    j.float_offset = static_cast<int>(floats.size());
    j.ok = 1;
    for (const auto* v : {&cx.start, &cx.count, &cy.start, &cy.count}) ints.insert(ints.end(), v->begin(), v->end());
    floats.insert(floats.end(), cx.weights.begin(), cx.weights.end());
    floats.insert(floats.end(), cy.weights.begin(), cy.weights.end());
  }
  const size_t jobs_bytes = Align(jobs.size() * sizeof(GpuJob));
  const size_t ints_bytes = Align(ints.size() * sizeof(int));
  const size_t total = jobs_bytes + ints_bytes + floats.size() * sizeof(float);
  OPTIC_RETURN_IF_ERROR(pinned_meta_.Reserve(total));
  OPTIC_RETURN_IF_ERROR(device_meta_.Reserve(total));
  auto* host = pinned_meta_.get<uint8_t>();
  std::memcpy(host, jobs.data(), jobs.size() * sizeof(GpuJob));
  std::memcpy(host + jobs_bytes, ints.data(), ints.size() * sizeof(int));
  std::memcpy(host + jobs_bytes + ints_bytes, floats.data(), floats.size() * sizeof(float));
  auto* dev = device_meta_.get<uint8_t>();
  OPTIC_RETURN_IF_ERROR(CudaCheck(cudaMemcpyAsync(dev, host, total, cudaMemcpyHostToDevice, st), "upload"));
  GpuNormalize norm;
  for (int c = 0; c < 3; ++c) {
    norm.mul[c] = o.scale / o.std[c];
    norm.add[c] = -o.mean[c] / o.std[c];
  }
  return CudaCheck(LaunchResizeNormalize(reinterpret_cast<const GpuJob*>(dev), static_cast<int>(n),
                                         reinterpret_cast<const int*>(dev + jobs_bytes),
                                         reinterpret_cast<const float*>(dev + jobs_bytes + ints_bytes),
                                         o.crop_width, o.crop_height, norm, o.dtype == DType::kFP16,
                                         o.layout == Layout::kNCHW, out, st),
                   "resize kernel launch");
}

}  // namespace

Status CreateCudaPreprocessor(const PreprocessOptions& options, int device,
                              std::unique_ptr<Preprocessor>* out) {
  OPTIC_RETURN_IF_ERROR(ValidatePreprocessOptions(options));
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    return Status::UnsupportedHardware("preprocess: no CUDA device (or no driver) on this machine");
  }
  if (device < 0 || device >= count) {
    return Status::InvalidArgument("preprocess: cuda:" + std::to_string(device) + " does not exist (" +
                                   std::to_string(count) + " devices)");
  }
  auto p = std::make_unique<CudaPreprocessor>(options, device);
  OPTIC_RETURN_IF_ERROR(p->Init());
  *out = std::move(p);
  return Status::OK();
}

}  // namespace optic::preprocess
