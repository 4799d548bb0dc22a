// NvjpegDecoder: nvJPEG handles for one device. A batched decoder on the hardware JPEG engines
// (NVJPEG_BACKEND_HARDWARE, A100/H100/H200) or, where the GPU has none, on GPU_HYBRID; and a
// per-image decoder on the default backend for what the batched one does not take (progressive,
// 4:1:0/4:1:1, grayscale on some engines).
// Threading: one thread at a time. Failure: Create fails with kUnsupportedHardware when nvJPEG
// cannot start on the device; decode failures name the nvJPEG status. After a failed parse or
// decode the JPEG state (or stream) that call used is replaced by a new one and the CUDA error it
// may have left is cleared, so a bad image affects only its own result.
#pragma once

#include <cuda_runtime.h>
#include <nvjpeg.h>

#include <memory>
#include <string>
#include <vector>

#include "optic/status.h"

namespace optic::preprocess {

const char* NvjpegStatusName(nvjpegStatus_t s);

class NvjpegDecoder {
 public:
  static Status Create(std::unique_ptr<NvjpegDecoder>* out);
  ~NvjpegDecoder();

  bool hardware() const { return hardware_; }
  const char* batched_backend() const { return hardware_ ? "hardware" : "gpu_hybrid"; }
  // Parses the header; true when the batched backend can decode this image.
  bool BatchedSupports(const uint8_t* data, size_t size);
  // All-or-nothing batched decode to interleaved RGB (NVJPEG_OUTPUT_RGBI).
  Status DecodeBatched(const std::vector<const unsigned char*>& data,
                       const std::vector<size_t>& sizes, std::vector<nvjpegImage_t>* dests,
                       cudaStream_t stream);
  // One image on the default backend (hybrid CPU Huffman + GPU IDCT).
  Status DecodeOne(const unsigned char* data, size_t size, nvjpegImage_t* dest, cudaStream_t stream);

 private:
  NvjpegDecoder() = default;
  Status Renew(nvjpegHandle_t handle, nvjpegJpegState_t* state, cudaStream_t stream);
  bool hardware_ = false;
  nvjpegHandle_t batched_ = nullptr, single_ = nullptr;
  nvjpegJpegState_t batched_state_ = nullptr, single_state_ = nullptr;
  nvjpegJpegStream_t stream_ = nullptr;
  int batched_size_ = -1;
};

}  // namespace optic::preprocess
