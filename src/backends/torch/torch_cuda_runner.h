// The CUDA execution path shared by the libtorch backends (torch: TorchScript; torch_aoti:
// AOTInductor packages). Internal to src/backends.
//
// One CudaRunner per loaded model. It owns a dedicated CUDA stream (from libtorch's pool, so
// models running in different threads overlap on the GPU instead of serializing on the legacy
// default stream), pinned host staging buffers for the inputs, and, with cuda_graph, one captured
// CUDA graph per batch shape (captured on the first Execute of that shape, after warm-up runs;
// replayed afterwards). Each Run: host inputs -> pinned staging -> device (cast to the compute
// dtype, channels-last if asked) -> forward -> outputs cast to fp32 -> pinned host tensors.
// CUDA events on the stream split the run into H2D, compute and D2H (optic/phase_timing.h).
//
// Ownership: the runner owns its stream handle, staging buffers and graphs; `forward` is borrowed
// for the call. Outputs are new pinned host tensors owned by the caller.
// Threading: Run is not reentrant (one Execute at a time per Model, optic's contract).
// Failure: libtorch/CUDA exceptions propagate to the backend's Execute, which turns them into a
// Status; a failed capture ends the capture before rethrowing, so the stream stays usable.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <vector>

#include "optic/backend.h"
#include "optic/phase_timing.h"

namespace optic::torch_backend {

struct CudaRunnerSettings {
  int device_index = 0;
  c10::ScalarType compute_dtype = c10::kFloat;  // what float inputs are cast to on the device
  bool channels_last = false;                   // 4-d inputs in NHWC order
  bool cuda_graph = false;                      // capture once per input shape, then replay
  int graph_warmup_runs = 3;                    // eager runs before a capture (cuDNN autotune,
                                                // TorchScript's profiling executor)
};

// The model's forward pass on device inputs, launched on `stream` (a cudaStream_t).
using ForwardFn =
    std::function<std::vector<at::Tensor>(const std::vector<at::Tensor>& inputs, void* stream)>;

class CudaRunner {
 public:
  virtual ~CudaRunner() = default;
  // Runs one batch; `host_outputs` receives one host tensor per forward output (fp32 for float
  // outputs), already complete (the stream is synchronized).
  virtual void Run(const std::vector<Tensor>& inputs, const ForwardFn& forward,
                   std::vector<at::Tensor>* host_outputs) = 0;
  // The phases of the last successful Run.
  virtual bool LastPhases(ExecutePhases* out) const = 0;
};

// kUnsupported when libtorch was built without CUDA (the runner is then not compiled in).
Status CreateCudaRunner(const CudaRunnerSettings& settings, std::unique_ptr<CudaRunner>* out);

}  // namespace optic::torch_backend
