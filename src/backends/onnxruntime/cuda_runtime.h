// The few CUDA runtime calls the ONNX Runtime backend makes itself, resolved with dlopen from the
// libcudart that the CUDA execution provider already loaded, so optic links no CUDA library and a
// CPU-only build or machine is unaffected.
#pragma once

#include <cstddef>
#include <string>

#include "optic/status.h"

namespace optic::ort_cuda {

using Stream = void*;  // cudaStream_t

// Opens libcudart once per process; an error says which library names were tried.
Status Open();

Status CreateStream(Stream* stream);
void DestroyStream(Stream stream);
Status CopyToDevice(void* dst, const void* src, size_t bytes, Stream stream);
Status CopyToHost(void* dst, const void* src, size_t bytes, Stream stream);
Status Synchronize(Stream stream);

}  // namespace optic::ort_cuda
