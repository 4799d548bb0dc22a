#include "nvjpeg_decoder.h"

namespace optic::preprocess {

const char* NvjpegStatusName(nvjpegStatus_t s) {
  switch (s) {
    case NVJPEG_STATUS_SUCCESS: return "success";
    case NVJPEG_STATUS_NOT_INITIALIZED: return "not initialized";
    case NVJPEG_STATUS_INVALID_PARAMETER: return "invalid parameter";
    case NVJPEG_STATUS_BAD_JPEG: return "bad JPEG";
    case NVJPEG_STATUS_JPEG_NOT_SUPPORTED: return "JPEG not supported";
    case NVJPEG_STATUS_ALLOCATOR_FAILURE: return "allocator failure";
    case NVJPEG_STATUS_EXECUTION_FAILED: return "execution failed";
    case NVJPEG_STATUS_ARCH_MISMATCH: return "architecture mismatch";
    case NVJPEG_STATUS_INTERNAL_ERROR: return "internal error";
    case NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED: return "implementation not supported";
    case NVJPEG_STATUS_INCOMPLETE_BITSTREAM: return "incomplete bitstream";
  }
  return "unknown nvJPEG status";
}

namespace {
Status Fail(const char* what, nvjpegStatus_t s) {
  return Status::Internal(std::string("nvJPEG ") + what + ": " + NvjpegStatusName(s));
}
}  // namespace

Status NvjpegDecoder::Create(std::unique_ptr<NvjpegDecoder>* out) {
  std::unique_ptr<NvjpegDecoder> d(new NvjpegDecoder());
  // Hardware engines first; nvjpegCreateEx fails on GPUs without them.
  if (nvjpegCreateEx(NVJPEG_BACKEND_HARDWARE, nullptr, nullptr, 0, &d->batched_) == NVJPEG_STATUS_SUCCESS) {
    d->hardware_ = true;
  } else {
    d->batched_ = nullptr;
    nvjpegStatus_t s = nvjpegCreateEx(NVJPEG_BACKEND_GPU_HYBRID, nullptr, nullptr, 0, &d->batched_);
    if (s != NVJPEG_STATUS_SUCCESS) {
      d->batched_ = nullptr;
      return Status::UnsupportedHardware(std::string("nvJPEG cannot start: ") + NvjpegStatusName(s));
    }
  }
  nvjpegStatus_t s = nvjpegCreateEx(NVJPEG_BACKEND_DEFAULT, nullptr, nullptr, 0, &d->single_);
  if (s != NVJPEG_STATUS_SUCCESS) {
    d->single_ = nullptr;
    return Fail("create (default backend)", s);
  }
  if ((s = nvjpegJpegStateCreate(d->batched_, &d->batched_state_)) != NVJPEG_STATUS_SUCCESS) return Fail("state", s);
  if ((s = nvjpegJpegStateCreate(d->single_, &d->single_state_)) != NVJPEG_STATUS_SUCCESS) return Fail("state", s);
  if ((s = nvjpegJpegStreamCreate(d->batched_, &d->stream_)) != NVJPEG_STATUS_SUCCESS) return Fail("stream", s);
  *out = std::move(d);
  return Status::OK();
}

NvjpegDecoder::~NvjpegDecoder() {
  if (stream_) nvjpegJpegStreamDestroy(stream_);
  if (batched_state_) nvjpegJpegStateDestroy(batched_state_);
  if (single_state_) nvjpegJpegStateDestroy(single_state_);
  if (batched_) nvjpegDestroy(batched_);
  if (single_) nvjpegDestroy(single_);
}

Status NvjpegDecoder::Renew(nvjpegHandle_t handle, nvjpegJpegState_t* state, cudaStream_t stream) {
  if (*state) {
    cudaStreamSynchronize(stream);  // earlier images' decode work on this state may be queued
    nvjpegJpegStateDestroy(*state);
  }
  (void)cudaGetLastError();  // a failed decode may leave a (non-sticky) launch error behind
  *state = nullptr;
  nvjpegStatus_t s = nvjpegJpegStateCreate(handle, state);
  if (s != NVJPEG_STATUS_SUCCESS) {
    *state = nullptr;
    return Fail("state (after a failed decode)", s);
  }
  return Status::OK();
}

bool NvjpegDecoder::BatchedSupports(const uint8_t* data, size_t size) {
  if (stream_ == nullptr && nvjpegJpegStreamCreate(batched_, &stream_) != NVJPEG_STATUS_SUCCESS) {
    stream_ = nullptr;
    return false;
  }
  if (nvjpegJpegStreamParseHeader(batched_, data, size, stream_) != NVJPEG_STATUS_SUCCESS) {
    nvjpegJpegStreamDestroy(stream_);  // the next parse starts from a new stream
    stream_ = nullptr;
    return false;
  }
  int unsupported = 1;
  if (nvjpegDecodeBatchedSupported(batched_, stream_, &unsupported) != NVJPEG_STATUS_SUCCESS) return false;
  return unsupported == 0;  // nvJPEG: 0 means supported
}

Status NvjpegDecoder::DecodeBatched(const std::vector<const unsigned char*>& data,
                                    const std::vector<size_t>& sizes,
                                    std::vector<nvjpegImage_t>* dests, cudaStream_t stream) {
  const int n = static_cast<int>(data.size());
  if (n == 0) return Status::OK();
  nvjpegStatus_t s;
  if (batched_state_ == nullptr) OPTIC_RETURN_IF_ERROR(Renew(batched_, &batched_state_, stream));
  if (n != batched_size_) {  // re-initialize only when the batch size changes
    s = nvjpegDecodeBatchedInitialize(batched_, batched_state_, n, 1, NVJPEG_OUTPUT_RGBI);
    if (s != NVJPEG_STATUS_SUCCESS) {
      batched_size_ = -1;
      return Fail("batched initialize", s);
    }
    batched_size_ = n;
  }
  s = nvjpegDecodeBatched(batched_, batched_state_, data.data(), sizes.data(), dests->data(), stream);
  if (s != NVJPEG_STATUS_SUCCESS) {
    batched_size_ = -1;  // a new state needs a re-initialize
    const Status failed = Fail("batched decode", s);
    OPTIC_RETURN_IF_ERROR(Renew(batched_, &batched_state_, stream));
    return failed;
  }
  return Status::OK();
}

Status NvjpegDecoder::DecodeOne(const unsigned char* data, size_t size, nvjpegImage_t* dest,
                                cudaStream_t stream) {
  if (single_state_ == nullptr) OPTIC_RETURN_IF_ERROR(Renew(single_, &single_state_, stream));
  nvjpegStatus_t s = nvjpegDecode(single_, single_state_, data, size, NVJPEG_OUTPUT_RGBI, dest, stream);
  if (s != NVJPEG_STATUS_SUCCESS) {
    const Status failed = Fail("decode", s);
    OPTIC_RETURN_IF_ERROR(Renew(single_, &single_state_, stream));
    return failed;
  }
  return Status::OK();
}

}  // namespace optic::preprocess
