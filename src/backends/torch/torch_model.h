// A loaded TorchScript module behind optic's Model interface (internal to the torch backend).
//
// Ownership: TorchModel owns its torch::jit::Module (already converted to the target device,
// dtype and memory format, and frozen if asked). Inputs are borrowed for one Execute: fp32 host
// inputs on the CPU are wrapped without a copy (torch::from_blob) and only read; outputs are new
// host tensors that keep the libtorch tensor alive instead of copying it again.
// Threading: Execute is not reentrant on one TorchModel (optic's contract); different
// TorchModels may run at once. Two pieces of libtorch state are process-global and are set on
// every Execute so that each model gets what it was loaded with: the CPU intra-op thread count
// (at::set_num_threads; with OpenMP builds it is per calling thread, so Load's thread is not
// enough) and, on CUDA, TF32 for cuBLAS and cuDNN. Two models with different settings running
// at the same time therefore race on them; optic's bench and server run one model per process.
// Failure: c10::Error and std::exception are caught here and become a Status naming "torch",
// the file and libtorch's message without its C++ backtrace.
#pragma once

#include <torch/script.h>
#include <torch/version.h>

#include <string>
#include <vector>

#include "optic/backend.h"
#include "optic/phase_timing.h"
#include "optic/pipelining.h"
#include "torch_cuda_runner.h"

namespace optic::torch_backend {

// Typed form of LoadOptions for this backend, parsed once in Load.
struct TorchSettings {
  Device device;
  Precision precision = Precision::kFP32;
  int threads = 1;             // resolved: never 0
  bool freeze = true;          // torch::jit::freeze after conversion
  bool optimize = true;        // torch::jit::optimize_for_inference after freezing
  bool channels_last = false;  // 4-d weights and inputs in NHWC memory order
  bool cuda_graph = false;     // CUDA: capture each batch shape once, then replay (torch_cuda_runner.h)
  bool cudnn_benchmark = true;  // CUDA: cuDNN picks the fastest algorithm per shape
  bool jit_optimize = TORCH_VERSION_MAJOR < 2;  // graph-executor profiling + fusion
  int pipeline_depth = 3;      // CUDA: batches in flight through Submit/Collect (optic/pipelining.h)
};

// On CUDA also PipelinedExecution (several batches in flight); on the CPU Submit runs the batch
// at once and Collect hands its outputs back (max_in_flight 1).
class TorchModel final : public Model, public PhaseReporting, public PipelinedExecution {
 public:
  // `shapes_known` false: `inputs` carry shape [-1] and unknown rank; Execute then checks only the
  // number and dtype of inputs and libtorch reports any shape error itself.
  TorchModel(torch::jit::Module module, TorchSettings settings, std::string path,
             std::vector<TensorInfo> inputs, std::vector<TensorInfo> outputs, bool shapes_known);

  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override;
  // CUDA only: H2D / compute / D2H of the last Execute, from CUDA events on the model's stream.
  bool LastPhases(ExecutePhases* out) const override { return cuda_ && cuda_->LastPhases(out); }

  int max_in_flight() const override { return device_.is_cuda() ? settings_.pipeline_depth : 1; }
  int in_flight() const override;
  Status Submit(const std::vector<Tensor>& inputs) override;
  Status Collect(std::vector<Tensor>* outputs, ExecutePhases* phases) override;
  Status AllocateHostInput(DType dtype, const Shape& shape, Tensor* out) override;

 private:
  Status EnsureRunner();
  ForwardFn MakeForward(Status* flat);  // forward() flattened to tensors; *flat: shape errors
  void SetGlobals() const;  // thread count, TF32 flags: process-global libtorch state
  // Runs `fn` turning libtorch exceptions into a Status naming the file.
  template <typename Fn> Status Guarded(const char* what, Fn&& fn);
  Status CheckBatch(const std::vector<Tensor>& inputs) const;
  Status RunForward(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs);
  // Checks forward()'s tensors against outputs_ and wraps them as fp32/int host tensors.
  Status ToOutputs(std::vector<at::Tensor>& produced, std::vector<Tensor>* outputs);

  torch::jit::Module module_;
  TorchSettings settings_;
  std::string path_;
  c10::Device device_;
  c10::ScalarType compute_dtype_;  // what float inputs are converted to before forward()
  std::vector<TensorInfo> inputs_, outputs_;
  bool shapes_known_;
  std::unique_ptr<CudaRunner> cuda_;  // CUDA devices: stream, pinned staging, graphs (lazy)
  std::vector<std::vector<Tensor>> cpu_done_;  // CPU Submit: outputs waiting for Collect
};

// libtorch dtype of an optic dtype, and back (false for dtypes optic has no name for).
c10::ScalarType ToScalarType(DType dtype);
bool FromScalarType(c10::ScalarType type, DType* out);
c10::ScalarType ComputeDType(Precision precision);  // kFloat, kHalf or kBFloat16

// Option values shared by the torch and torch_aoti backends (already validated by type): a
// kBool value, and pipeline_depth (1..16, else kInvalidArgument naming the option).
bool Truthy(const std::string& value);
Status ParsePipelineDepth(const std::string& value, int* depth);

// "torch: <what> '<path>': <reason>", with libtorch's backtrace cut off.
std::string ErrorText(const std::string& what, const std::string& path, const std::exception& e);

}  // namespace optic::torch_backend
