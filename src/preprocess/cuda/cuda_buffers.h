// Grow-only device and pinned host buffers for the GPU preprocessor. Not thread-safe.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <string>

#include "optic/status.h"

namespace optic::preprocess {

inline Status CudaCheck(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return Status::OK();
  if (e == cudaErrorMemoryAllocation) {
    return Status::OutOfMemory(std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
  }
  return Status::Internal(std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
}

template <bool kPinned>
class CudaBuffer {
 public:
  CudaBuffer() = default;
  CudaBuffer(const CudaBuffer&) = delete;
  CudaBuffer& operator=(const CudaBuffer&) = delete;
  CudaBuffer(CudaBuffer&& o) noexcept : ptr_(o.ptr_), cap_(o.cap_) { o.ptr_ = nullptr; o.cap_ = 0; }
  ~CudaBuffer() { Free(); }

  // Makes room for `bytes`; old contents are not kept.
  Status Reserve(size_t bytes) {
    if (bytes <= cap_) return Status::OK();
    Free();
    size_t want = bytes + bytes / 4;  // headroom: sizes vary from batch to batch
    cudaError_t e = kPinned ? cudaHostAlloc(&ptr_, want, cudaHostAllocDefault) : cudaMalloc(&ptr_, want);
    if (e != cudaSuccess) {
      ptr_ = nullptr;
      return CudaCheck(e, kPinned ? "cudaHostAlloc" : "cudaMalloc");
    }
    cap_ = want;
    return Status::OK();
  }
  template <typename T = void> T* get() const { return static_cast<T*>(ptr_); }

 private:
  void Free() {
    if (ptr_) kPinned ? cudaFreeHost(ptr_) : cudaFree(ptr_);
    ptr_ = nullptr;
    cap_ = 0;
  }
  void* ptr_ = nullptr;
  size_t cap_ = 0;
};

using DeviceBuffer = CudaBuffer<false>;
using PinnedBuffer = CudaBuffer<true>;

}  // namespace optic::preprocess
