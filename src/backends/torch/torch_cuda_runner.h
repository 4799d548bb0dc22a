// The CUDA execution path shared by the libtorch backends (torch: TorchScript; torch_aoti:
// AOTInductor packages). Internal to src/backends.
//
// One CudaRunner per loaded model. It keeps up to `pipeline_depth` batches in flight, each in a
// slot with its own device input buffers, pinned staging and CUDA events, over three streams from
// libtorch's pool: uploads, compute, downloads. Batch i+1's upload therefore overlaps batch i's
// forward pass and batch i-1's download (optic/pipelining.h). Run() is Submit() + Collect().
// Per batch: host inputs -> (pinned staging, skipped when the caller's memory is already page-
// locked) -> device (upload stream; inputs already on the model's device are copied device to
// device, e.g. a batch that GPU preprocessing wrote) -> cast to the compute dtype, channels-last if asked ->
// forward or CUDA-graph replay -> outputs cast to fp32 (compute stream) -> pinned host tensors
// (download stream). Events split each batch into H2D, compute and D2H device time
// (optic/phase_timing.h). With cuda_graph, one graph per input shape is captured on the first
// Submit of that shape (after warm-up runs) and replayed afterwards; replay outputs are copied
// out on the compute stream before the next replay can overwrite them.
//
// Ownership: the runner owns its streams, slots and graphs; `forward` is borrowed for the call.
// Inputs are borrowed until the Collect of their batch. Outputs are new pinned host tensors owned
// by the caller.
// Threading: one caller at a time (optic's contract for a Model).
// Failure: libtorch/CUDA exceptions propagate to the backend, which turns them into a Status; a
// failed Submit leaves its slot free, a failed Collect retires its slot; a failed capture ends
// the capture before rethrowing, so the stream stays usable.
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
  int pipeline_depth = 3;                       // batches in flight (>= 1)
};

// The model's forward pass on device inputs, launched on `stream` (a cudaStream_t).
using ForwardFn =
    std::function<std::vector<at::Tensor>(const std::vector<at::Tensor>& inputs, void* stream)>;

class CudaRunner {
 public:
  virtual ~CudaRunner() = default;
  // Runs one batch; `host_outputs` receives one host tensor per forward output (fp32 for float
  // outputs), already complete. Refused (std::logic_error) while batches are in flight.
  virtual void Run(const std::vector<Tensor>& inputs, const ForwardFn& forward,
                   std::vector<at::Tensor>* host_outputs) = 0;
  // Enqueues one batch (upload, forward, download) without waiting; needs in_flight() < depth().
  virtual void Submit(const std::vector<Tensor>& inputs, const ForwardFn& forward) = 0;
  // Waits for the oldest batch and returns its outputs and device phases.
  virtual void Collect(std::vector<at::Tensor>* host_outputs, ExecutePhases* phases) = 0;
  virtual int depth() const = 0;
  virtual int in_flight() const = 0;
  // A page-locked host tensor: inputs in such memory are uploaded without a staging copy.
  virtual at::Tensor AllocatePinned(c10::ScalarType type, const std::vector<int64_t>& shape) = 0;
  // The phases of the last successful Run or Collect.
  virtual bool LastPhases(ExecutePhases* out) const = 0;
};

// kUnsupported when libtorch was built without CUDA (the runner is then not compiled in).
Status CreateCudaRunner(const CudaRunnerSettings& settings, std::unique_ptr<CudaRunner>* out);

}  // namespace optic::torch_backend
