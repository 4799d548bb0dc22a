#include "tvm_model.h"

#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/tensor.h>
#include <tvm/ffi/extra/module.h>
#include <tvm/ffi/function.h>

#include <cstdlib>
#include <cstring>

namespace optic::tvm_backend {
namespace {

namespace ffi = ::tvm::ffi;

// tvm/runtime/memory/memory_manager.h's AllocatorType::kPooled: reuses buffers across calls.
constexpr int kPooledAllocator = 2;
// tvm/runtime/threading_backend.h's AffinityMode::kBig (on a uniform CPU: every core).
constexpr int kAffinityBig = 1;

DLDataType ToDL(DType t) {
  switch (t) {
    case DType::kFP32: return {kDLFloat, 32, 1};
    case DType::kFP16: return {kDLFloat, 16, 1};
    case DType::kBF16: return {kDLBfloat, 16, 1};
    case DType::kINT8: return {kDLInt, 8, 1};
    case DType::kUINT8: return {kDLUInt, 8, 1};
    case DType::kINT32: return {kDLInt, 32, 1};
    case DType::kINT64: return {kDLInt, 64, 1};
  }
  return {kDLFloat, 32, 1};
}

// Points a TVM tensor at memory optic owns (valid for one Execute).
struct Borrowed {
  void* data;
  void AllocData(DLTensor* t) { t->data = data; }
  void FreeData(DLTensor*) {}
};

// A 64-byte aligned host buffer owned by the TVM tensor.
struct Aligned {
  void AllocData(DLTensor* t) {
    size_t bytes = (t->dtype.bits * t->dtype.lanes + 7) / 8;
    for (int i = 0; i < t->ndim; ++i) bytes *= static_cast<size_t>(t->shape[i]);
    t->data = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (t->data == nullptr) throw std::bad_alloc();
  }
  void FreeData(DLTensor* t) { std::free(t->data); }
};

ffi::Tensor ToTvm(const Tensor& t) {
  const ffi::ShapeView shape(t.shape().data(), t.shape().size());
  const DLDevice cpu{kDLCPU, 0};
  void* data = const_cast<void*>(t.raw());
  if (reinterpret_cast<uintptr_t>(data) % 64 == 0) {
    return ffi::Tensor::FromNDAlloc(Borrowed{data}, shape, ToDL(t.dtype()), cpu);
  }
  ffi::Tensor copy = ffi::Tensor::FromNDAlloc(Aligned{}, shape, ToDL(t.dtype()), cpu);
  std::memcpy(copy.data_ptr(), data, t.nbytes());
  return copy;
}

Status FromTvm(const ffi::Tensor& t, const TensorInfo& declared, Tensor* out) {
  const DLTensor* dl = t.GetDLTensorPtr();
  if (dl->device.device_type != kDLCPU || !t.IsContiguous()) {
    return Status::Internal("tvm: output '" + declared.name +
                            "' is not a contiguous host tensor");
  }
  const DLDataType want = ToDL(declared.dtype);
  if (dl->dtype.code != want.code || dl->dtype.bits != want.bits) {
    return Status::Internal("tvm: output '" + declared.name + "' is not " +
                            DTypeName(declared.dtype) + " as the ONNX graph declares");
  }
  Shape shape(dl->shape, dl->shape + dl->ndim);
  OPTIC_RETURN_IF_ERROR(Tensor::Empty(declared.dtype, shape, out));
  std::memcpy(out->raw(), static_cast<const char*>(dl->data) + dl->byte_offset, out->nbytes());
  return Status::OK();
}

// Sizes the calling thread's TVM pool once per thread (TVM keeps one pool per calling thread).
void ConfigureThreads(int threads) {
  thread_local int configured = 0;
  if (threads <= 0 || configured == threads) return;
  if (auto f = ffi::Function::GetGlobal("runtime.config_threadpool")) (*f)(kAffinityBig, threads);
  configured = threads;
}

}  // namespace

struct TvmModel::Vm {
  ffi::Module library;
  ffi::Module vm;
  ffi::Function main;
};

TvmModel::TvmModel(const CompileSettings& settings, int threads)
    : settings_(settings), threads_(threads) {}
TvmModel::~TvmModel() = default;

Status TvmModel::Create(const CompileSettings& settings, const LoadOptions& options,
                        std::unique_ptr<Model>* out) {
  std::unique_ptr<TvmModel> model(new TvmModel(settings, options.threads));
  Vm* vm = nullptr;
  OPTIC_RETURN_IF_ERROR(model->VmFor(settings.trials > 0 ? std::max(1, options.batch_size) : 0,
                                     &vm));
  *out = std::move(model);
  return Status::OK();
}

Status TvmModel::VmFor(int64_t batch, Vm** out) {
  const int64_t key = settings_.trials > 0 ? batch : 0;
  if (auto it = vms_.find(key); it != vms_.end()) {
    *out = it->second.get();
    return Status::OK();
  }
  Artefact artefact;
  OPTIC_RETURN_IF_ERROR(GetArtefact(settings_, static_cast<int>(key), &artefact));
  std::unique_ptr<Vm> vm;
  try {
    ffi::Module library = ffi::Module::LoadFromFile(artefact.library);
    auto load = library->GetFunction("vm_load_executable", true);
    if (!load) {
      return Status::Internal("tvm: '" + artefact.library + "' holds no Relax VM executable; "
                              "delete it to compile again");
    }
    ffi::Module executable = (*load)().cast<ffi::Module>();
    auto init = executable->GetFunction("vm_initialization", false);
    auto main = executable->GetFunction("main", false);
    if (!init || !main) {
      return Status::Internal("tvm: '" + artefact.library + "' has no main function");
    }
    (*init)(static_cast<int>(kDLCPU), 0, kPooledAllocator, static_cast<int>(kDLCPU), 0,
            kPooledAllocator);
    vm.reset(new Vm{library, executable, *main});
  } catch (const std::exception& e) {
    return Status::Internal("tvm: cannot load '" + artefact.library + "' (compiled from '" +
                            settings_.onnx_path + "'): " + e.what());
  }
  if (vms_.empty()) {
    inputs_ = artefact.inputs;
    outputs_ = artefact.outputs;
    loaded_from_cache_ = artefact.cache_hit;
  }
  *out = vm.get();
  vms_[key] = std::move(vm);
  return Status::OK();
}

Status TvmModel::Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) {
  OPTIC_RETURN_IF_ERROR(CheckInputs(inputs_, inputs).Prefixed("tvm"));
  for (const Tensor& t : inputs) {
    if (!t.is_host()) return Status::InvalidArgument("tvm: inputs must be host tensors");
  }
  const int64_t batch = inputs.empty() || inputs[0].shape().empty() ? 1 : inputs[0].dim(0);
  Vm* vm = nullptr;
  OPTIC_RETURN_IF_ERROR(VmFor(batch, &vm));
  ConfigureThreads(threads_);
  std::vector<Tensor> result;
  try {
    std::vector<ffi::Tensor> args;
    for (const Tensor& t : inputs) args.push_back(ToTvm(t));
    std::vector<ffi::AnyView> views(args.begin(), args.end());
    ffi::Any ret;
    vm->main.CallPacked(views.data(), static_cast<int32_t>(views.size()), &ret);
    std::vector<ffi::Tensor> tensors;
    if (auto single = ret.as<ffi::Tensor>()) {
      tensors.push_back(*single);
    } else if (auto tuple = ret.as<ffi::Array<ffi::Any>>()) {
      for (const ffi::Any& item : *tuple) tensors.push_back(item.cast<ffi::Tensor>());
    } else {
      return Status::Internal("tvm: main returned " + ret.GetTypeKey() + ", not tensors");
    }
    if (tensors.size() != outputs_.size()) {
      return Status::Internal("tvm: main returned " + std::to_string(tensors.size()) +
                              " outputs, the ONNX graph declares " +
                              std::to_string(outputs_.size()));
    }
    for (size_t i = 0; i < tensors.size(); ++i) {
      Tensor t;
      OPTIC_RETURN_IF_ERROR(FromTvm(tensors[i], outputs_[i], &t));
      result.push_back(std::move(t));
    }
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("tvm: out of memory running '" + settings_.onnx_path + "'");
  } catch (const std::exception& e) {
    return Status::Internal("tvm: run of '" + settings_.onnx_path + "' failed: " + e.what());
  }
  *outputs = std::move(result);
  return Status::OK();
}

}  // namespace optic::tvm_backend
