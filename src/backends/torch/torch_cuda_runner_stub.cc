// CreateCudaRunner for libtorch builds without CUDA (e.g. Debian's libtorch-dev 1.13): the torch
// backend then reports no CUDA device in its capabilities, so this is only reached by mistake.
#include <torch/version.h>

#include "torch_cuda_runner.h"

namespace optic::torch_backend {

Status CreateCudaRunner(const CudaRunnerSettings&, std::unique_ptr<CudaRunner>*) {
  return Status::Unsupported(std::string("torch: this libtorch (") + TORCH_VERSION +
                             ") was built without CUDA");
}

}  // namespace optic::torch_backend
