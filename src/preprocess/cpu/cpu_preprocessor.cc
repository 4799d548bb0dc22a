#include "cpu_preprocessor.h"

#include <chrono>
#include <cstring>
#include <new>
#include <string>
#include <thread>

#include "jpeg_decoder.h"
#include "resize.h"
#include "thread_pool.h"

namespace optic::preprocess {

namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Worker {
  JpegDecoder decoder;
  DecodedImage image;
  ResizeScratch scratch;
  double decode_ms = 0, resize_ms = 0;
};

class CpuPreprocessor final : public Preprocessor {
 public:
  CpuPreprocessor(const PreprocessOptions& o, int threads) : options_(o), pool_(threads) {
    for (int i = 0; i < pool_.size(); ++i) workers_.push_back(std::make_unique<Worker>());
  }

  Status Run(const std::vector<ImageInput>& images, Tensor* batch,
             std::vector<ImageResult>* results, void* /*stream*/) override {
    const auto t0 = Clock::now();
    OPTIC_RETURN_IF_ERROR(CheckBatch(options_, *batch, images.size(), device()));
    results->assign(images.size(), ImageResult{});
    const size_t row_bytes = static_cast<size_t>(ShapeNumel(PreprocessBatchShape(options_, 1))) *
                             DTypeSize(options_.dtype);
    auto* base = static_cast<uint8_t*>(batch->raw());
    for (auto& w : workers_) w->decode_ms = w->resize_ms = 0;
    pool_.ParallelFor(static_cast<int>(images.size()), [&](int i, int wi) {
      uint8_t* row = base + row_bytes * i;
      ImageResult& r = (*results)[i];
      try {
        r.status = ProcessOne(images[i], workers_[wi].get(), row, &r);
      } catch (const std::bad_alloc&) {  // a decode buffer for a header under a raised pixel cap
        r.status = Status::OutOfMemory("image '" + images[i].name + "': out of memory for its " +
                                       std::to_string(r.width) + "x" + std::to_string(r.height) +
                                       " decode (lower --max-pixels / max_pixels to reject such images)");
      }
      if (!r.status.ok()) std::memset(row, 0, row_bytes);
    });
    timings_ = {};
    for (auto& w : workers_) {
      timings_.decode_ms += w->decode_ms;
      timings_.resize_ms += w->resize_ms;
    }
    timings_.wall_ms = Ms(Clock::now() - t0);
    return Status::OK();
  }

  Status AllocateBatch(int64_t n, Tensor* out) override {
    return Tensor::Empty(options_.dtype, PreprocessBatchShape(options_, n), out);
  }
  Status BatchToHost(const Tensor& batch, Tensor* host) override { return batch.Clone(host); }
  Device device() const override { return Device{}; }
  const PreprocessOptions& options() const override { return options_; }
  const PreprocessTimings& last_timings() const override { return timings_; }

 private:
  Status ProcessOne(const ImageInput& in, Worker* w, uint8_t* row, ImageResult* r) {
    const auto t0 = Clock::now();
    JpegHeader h;
    Status s = w->decoder.ReadHeader(in, options_.max_pixels, &h);
    if (!s.ok()) return s;
    r->width = h.width;
    r->height = h.height;
    const ResizeGeometry g = ComputeGeometry(options_, h.width, h.height);
    int num = 1, denom = 1, sw = h.width, sh = h.height;
    if (options_.dct_scaling) {
      ChooseDctScale(h.width, h.height, g.resized_w, g.resized_h, &num, &denom, &sw, &sh);
    }
    s = w->decoder.Decode(in, h, num, denom, /*expand_gray=*/false, &w->image);
    const auto t1 = Clock::now();
    w->decode_ms += Ms(t1 - t0);
    if (!s.ok()) return s;
    r->warning = w->image.warning;
    r->decoded_width = w->image.width;
    r->decoded_height = w->image.height;
    SourceImage src;
    src.data = w->image.pixels.data();
    src.width = w->image.width;
    src.height = w->image.height;
    src.channels = w->image.channels;
    src.stride = static_cast<size_t>(src.width) * src.channels;
    ResizeCropNormalize(src, g, options_, &w->scratch, row);
    w->resize_ms += Ms(Clock::now() - t1);
    return Status::OK();
  }

  PreprocessOptions options_;
  ThreadPool pool_;
  std::vector<std::unique_ptr<Worker>> workers_;
  PreprocessTimings timings_;
};

}  // namespace

Status CheckBatch(const PreprocessOptions& o, const Tensor& batch, size_t n, Device device) {
  if (!(batch.device() == device)) {
    return Status::InvalidArgument("preprocess: batch tensor is on " + DeviceName(batch.device()) +
                                   ", expected " + DeviceName(device));
  }
  if (batch.dtype() != o.dtype) {
    return Status::InvalidArgument(std::string("preprocess: batch dtype ") +
                                   DTypeName(batch.dtype()) + ", options ask for " +
                                   DTypeName(o.dtype));
  }
  Shape want = PreprocessBatchShape(o, static_cast<int64_t>(n));
  const Shape& got = batch.shape();
  bool match = got.size() == 4 && batch.raw() != nullptr && got[0] >= static_cast<int64_t>(n);
  for (size_t i = 1; match && i < 4; ++i) match = got[i] == want[i];
  if (!match) {
    return Status::InvalidArgument("preprocess: batch shape " + ShapeToString(got) +
                                   " cannot hold " + ShapeToString(want));
  }
  return Status::OK();
}

Status CreateCpuPreprocessor(const PreprocessOptions& options, std::unique_ptr<Preprocessor>* out) {
  OPTIC_RETURN_IF_ERROR(ValidatePreprocessOptions(options));
  int threads = options.threads;
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  *out = std::make_unique<CpuPreprocessor>(options, threads);
  return Status::OK();
}

}  // namespace optic::preprocess
