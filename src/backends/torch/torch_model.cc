#include "torch_model.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <cstdlib>
#include <utility>

namespace optic::torch_backend {

c10::ScalarType ToScalarType(DType dtype) {
  switch (dtype) {
    case DType::kFP32: return at::kFloat;
    case DType::kFP16: return at::kHalf;
    case DType::kBF16: return at::kBFloat16;
    case DType::kINT8: return at::kChar;
    case DType::kUINT8: return at::kByte;
    case DType::kINT32: return at::kInt;
    case DType::kINT64: return at::kLong;
  }
  return at::kFloat;
}

bool FromScalarType(c10::ScalarType type, DType* out) {
  switch (type) {
    case at::kFloat: *out = DType::kFP32; return true;
    case at::kHalf: *out = DType::kFP16; return true;
    case at::kBFloat16: *out = DType::kBF16; return true;
    case at::kChar: *out = DType::kINT8; return true;
    case at::kByte: *out = DType::kUINT8; return true;
    case at::kInt: *out = DType::kINT32; return true;
    case at::kLong: *out = DType::kINT64; return true;
    default: return false;
  }
}

c10::ScalarType ComputeDType(Precision precision) {
  switch (precision) {
    case Precision::kFP16: return at::kHalf;
    case Precision::kBF16: return at::kBFloat16;
    default: return at::kFloat;  // fp32 and tf32 (tf32 is a math mode, not a storage type)
  }
}

std::string ErrorText(const std::string& what, const std::string& path, const std::exception& e) {
  // c10::Error::what() appends a C++ backtrace many lines long; users need the first part.
  std::string reason;
  if (const auto* c10e = dynamic_cast<const c10::Error*>(&e)) {
    reason = c10e->what_without_backtrace();
  } else {
    reason = e.what();
  }
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
  return "torch: " + what + " '" + path + "': " + reason;
}

TorchModel::TorchModel(torch::jit::Module module, TorchSettings settings, std::string path,
                       std::vector<TensorInfo> inputs, std::vector<TensorInfo> outputs,
                       bool shapes_known)
    : module_(std::move(module)),
      settings_(settings),
      path_(std::move(path)),
      device_(settings.device.is_cpu() ? c10::Device(c10::kCPU)
                                       : c10::Device(c10::kCUDA, settings.device.index)),
      compute_dtype_(ComputeDType(settings.precision)),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)),
      shapes_known_(shapes_known) {}

Status TorchModel::CheckBatch(const std::vector<Tensor>& inputs) const {
  Status s;
  if (shapes_known_) {
    s = CheckInputs(inputs_, inputs);
  } else if (inputs.size() != inputs_.size()) {
    s = Status::InvalidArgument("expected " + std::to_string(inputs_.size()) + " inputs, got " +
                                std::to_string(inputs.size()));
  } else {
    for (size_t i = 0; i < inputs.size() && s.ok(); ++i) {
      if (inputs[i].dtype() != inputs_[i].dtype) {
        s = Status::InvalidArgument("input '" + inputs_[i].name + "' expects " +
                                    DTypeName(inputs_[i].dtype) + ", got " +
                                    DTypeName(inputs[i].dtype()));
      }
    }
  }
  for (size_t i = 0; i < inputs.size() && s.ok(); ++i) {
    // Host tensors anywhere; device tensors only on the model's own CUDA device (read there by
    // a device-to-device copy on the model's upload stream, after the producer finished).
    const Device& d = inputs[i].device();
    const bool own_device = device_.is_cuda() && d.type == DeviceType::kCUDA &&
                            d.index == device_.index();
    if (!inputs[i].is_host() && !own_device) {
      s = Status::Unsupported("input " + std::to_string(i) + " is on " + DeviceName(d) +
                              "; this model takes host tensors" +
                              (device_.is_cuda() ? " or tensors on " + DeviceName(settings_.device)
                                                 : std::string()));
    }
  }
  return s.ok() ? s : Status(s.code(), "torch: '" + path_ + "': " + s.message());
}

template <typename Fn>
Status TorchModel::Guarded(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const c10::OutOfMemoryError& e) {
    return Status::OutOfMemory(ErrorText("out of memory running", path_, e));
  } catch (const std::exception& e) {  // c10::Error and the rest
    return Status::Internal(ErrorText(what, path_, e));
  }
}

Status TorchModel::Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) {
  OPTIC_RETURN_IF_ERROR(CheckBatch(inputs));
  if (in_flight() > 0) {
    return Status::Unavailable("torch: '" + path_ + "': Execute while " +
                               std::to_string(in_flight()) +
                               " submitted batches are in flight (Collect them first)");
  }
  return Guarded("run failed for", [&] { return RunForward(inputs, outputs); });
}

int TorchModel::in_flight() const {
  if (!device_.is_cuda()) return static_cast<int>(cpu_done_.size());
  return cuda_ ? cuda_->in_flight() : 0;
}

Status TorchModel::Submit(const std::vector<Tensor>& inputs) {
  OPTIC_RETURN_IF_ERROR(CheckBatch(inputs));
  if (in_flight() >= max_in_flight()) {
    return Status::Unavailable("torch: '" + path_ + "': " + std::to_string(in_flight()) +
                               " batches in flight already (max_in_flight); Collect one first");
  }
  if (!device_.is_cuda()) {  // no overlap to gain on the CPU: run now, hand back at Collect
    std::vector<Tensor> out;
    OPTIC_RETURN_IF_ERROR(Guarded("run failed for", [&] { return RunForward(inputs, &out); }));
    cpu_done_.push_back(std::move(out));
    return Status::OK();
  }
  return Guarded("run failed for", [&] {
    OPTIC_RETURN_IF_ERROR(EnsureRunner());
    c10::InferenceMode inference_mode;
    SetGlobals();
    Status flat;
    cuda_->Submit(inputs, MakeForward(&flat));
    if (!flat.ok()) {  // nothing usable was enqueued: retire the batch again
      std::vector<at::Tensor> unused;
      cuda_->Collect(&unused, nullptr);
    }
    return flat;
  });
}

Status TorchModel::Collect(std::vector<Tensor>* outputs, ExecutePhases* phases) {
  if (in_flight() == 0) {
    return Status::InvalidArgument("torch: '" + path_ + "': Collect with no batch in flight");
  }
  if (!device_.is_cuda()) {
    *outputs = std::move(cpu_done_.front());
    cpu_done_.erase(cpu_done_.begin());
    return Status::OK();
  }
  return Guarded("run failed for", [&] {
    std::vector<at::Tensor> produced;
    cuda_->Collect(&produced, phases);
    return ToOutputs(produced, outputs);
  });
}

Status TorchModel::AllocateHostInput(DType dtype, const Shape& shape, Tensor* out) {
  if (!device_.is_cuda()) return Tensor::Empty(dtype, shape, out);
  return Guarded("cannot allocate pinned memory for", [&] {
    OPTIC_RETURN_IF_ERROR(EnsureRunner());
    auto t = std::make_shared<at::Tensor>(cuda_->AllocatePinned(ToScalarType(dtype), shape));
    void* data = t->data_ptr();
    *out = Tensor::FromHolder(std::move(t), data, dtype, shape, {});
    return Status::OK();
  });
}

Status TorchModel::EnsureRunner() {
  if (cuda_) return Status::OK();
  // Pinned staging, the model's own streams, events and CUDA graphs: torch_cuda_runner.h.
  CudaRunnerSettings rs;
  rs.device_index = device_.index();
  rs.compute_dtype = compute_dtype_;
  rs.channels_last = settings_.channels_last;
  rs.cuda_graph = settings_.cuda_graph;
  rs.pipeline_depth = settings_.pipeline_depth;
  return CreateCudaRunner(rs, &cuda_);
}

void TorchModel::SetGlobals() const {
  if (at::get_num_threads() != settings_.threads) at::set_num_threads(settings_.threads);
  // Per calling thread in libtorch; read when a method's executor first runs.
  if (torch::jit::getGraphExecutorOptimize() != settings_.jit_optimize) {
    torch::jit::setGraphExecutorOptimize(settings_.jit_optimize);
  }
  if (device_.is_cuda()) {
    // PyTorch allows TF32 in cuDNN by default; fp32 must mean fp32 here.
    const bool tf32 = settings_.precision == Precision::kTF32;
    at::globalContext().setAllowTF32CuBLAS(tf32);
    at::globalContext().setAllowTF32CuDNN(tf32);
    at::globalContext().setBenchmarkCuDNN(settings_.cudnn_benchmark);
  }
}

namespace {

// forward() may return a tensor, or a tuple or list of them (nested); outputs follow that order.
bool Flatten(const c10::IValue& v, std::vector<at::Tensor>* out) {
  if (v.isTensor()) {
    out->push_back(v.toTensor());
    return true;
  }
  if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) {
      if (!Flatten(e, out)) return false;
    }
    return true;
  }
  if (v.isList()) {
    for (const auto& e : v.toListRef()) {
      if (!Flatten(e, out)) return false;
    }
    return true;
  }
  return false;
}

}  // namespace

ForwardFn TorchModel::MakeForward(Status* flat) {
  return [this, flat](const std::vector<at::Tensor>& x, void*) {
    std::vector<at::Tensor> out;
    const c10::IValue r = module_.forward(std::vector<c10::IValue>(x.begin(), x.end()));
    if (!Flatten(r, &out)) {
      *flat = Status::Unsupported("torch: '" + path_ + "': forward() returned " + r.tagKind() +
                                  ", not tensors or tuples/lists of tensors");
    }
    return out;
  };
}

Status TorchModel::RunForward(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) {
  c10::InferenceMode inference_mode;
  SetGlobals();
  std::vector<at::Tensor> produced;
  if (device_.is_cuda()) {
    OPTIC_RETURN_IF_ERROR(EnsureRunner());
    Status flat;
    cuda_->Run(inputs, MakeForward(&flat), &produced);
    OPTIC_RETURN_IF_ERROR(flat);
    return ToOutputs(produced, outputs);
  }
  std::vector<c10::IValue> args;
  args.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    // from_blob neither copies nor owns; the forward() below only reads it.
    at::Tensor x = torch::from_blob(const_cast<void*>(t.raw()), t.shape(),
                                    at::TensorOptions().dtype(ToScalarType(t.dtype())));
    const bool is_float = x.is_floating_point();
    x = x.to(device_, is_float ? compute_dtype_ : x.scalar_type());
    if (settings_.channels_last && x.dim() == 4) {
      x = x.contiguous(at::MemoryFormat::ChannelsLast);
    }
    args.emplace_back(std::move(x));
  }
  const c10::IValue result = module_.forward(std::move(args));
  if (!Flatten(result, &produced)) {
    return Status::Unsupported("torch: '" + path_ + "': forward() returned " +
                               result.tagKind() + ", not tensors or tuples/lists of tensors");
  }
  return ToOutputs(produced, outputs);
}

bool Truthy(const std::string& value) { return value == "true" || value == "1"; }

Status ParsePipelineDepth(const std::string& value, int* depth) {
  *depth = std::atoi(value.c_str());
  if (*depth < 1 || *depth > 16) {
    return Status::InvalidArgument("option pipeline_depth=" + value + " is out of range 1..16");
  }
  return Status::OK();
}

Status TorchModel::ToOutputs(std::vector<at::Tensor>& produced, std::vector<Tensor>* outputs) {
  if (produced.size() != outputs_.size()) {
    return Status::Internal("torch: '" + path_ + "': forward() returned " +
                            std::to_string(produced.size()) + " tensors, the description " +
                            "declares " + std::to_string(outputs_.size()));
  }
  outputs->clear();
  for (at::Tensor& o : produced) {
    // Low-precision results go back as fp32, as optic's Model contract asks; the copy to the
    // host also waits for the device to finish.
    const auto type = o.is_floating_point() ? at::kFloat : o.scalar_type();
    auto host = std::make_shared<at::Tensor>(o.to(at::kCPU, type).contiguous());
    DType dtype;
    if (!FromScalarType(host->scalar_type(), &dtype)) {
      return Status::Unsupported("torch: '" + path_ + "': output dtype " +
                                 std::string(c10::toString(host->scalar_type())) +
                                 " has no optic equivalent");
    }
    Shape shape(host->sizes().begin(), host->sizes().end());
    void* data = host->data_ptr();
    outputs->push_back(Tensor::FromHolder(std::move(host), data, dtype, std::move(shape), {}));
  }
  return Status::OK();
}

}  // namespace optic::torch_backend
