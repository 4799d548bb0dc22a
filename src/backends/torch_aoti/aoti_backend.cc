// torch_aoti backend: runs AOTInductor packages (.pt2) from C++ through libtorch's
// torch::inductor::AOTIModelPackageLoader (libtorch >= 2.6 with CUDA; CMakeLists.txt guards it).
//
// Packages: tools/zoo/aoti.py compiles one package per precision (model.fp32.pt2,
// model.fp16.pt2, model.bf16.pt2), each with a dynamic batch axis, because AOTInductor bakes the
// dtype into its kernels. Load takes any of them and opens the sibling of the requested precision
// (the zoo hands over the first .pt2 it lists); a missing sibling is kUnsupported naming the file
// and the command that makes it. The compile is the cold load (recorded at export, compile_s in
// the zoo manifest); Load here is the cached load: unpacking the package and loading its .so.
//
// Execution goes through the shared CudaRunner (src/backends/torch/torch_cuda_runner.h): pinned
// staging, the model's own stream (handed to the package's run), CUDA events for H2D / compute /
// D2H, with cuda_graph=true one CUDA graph per batch size, and Submit/Collect with up to
// pipeline_depth batches in flight (optic/pipelining.h). Inputs stay NCHW-contiguous: the
// package was compiled for that layout (Inductor chooses its own internal layouts).
//
// Shapes come from the zoo manifest next to the package (torch_io_spec.h), as for TorchScript.
// Failure: every libtorch exception becomes a Status naming "torch_aoti" and the file.
#include <ATen/Context.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <filesystem>

#include "optic/backend.h"
#include "optic/pipelining.h"
#include "torch_cuda_runner.h"
#include "torch_io_spec.h"
#include "torch_model.h"

namespace optic {
namespace {

namespace fs = std::filesystem;
using torch_backend::CudaRunner;
using torch_backend::CudaRunnerSettings;

bool CudaAvailable() {
  try {
    return torch::cuda::is_available();
  } catch (const std::exception&) {
    return false;
  }
}

class AotiModel final : public Model, public PhaseReporting, public PipelinedExecution {
 public:
  AotiModel(std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader, std::string path,
            Precision precision, std::unique_ptr<CudaRunner> runner, std::vector<TensorInfo> in,
            std::vector<TensorInfo> out)
      : loader_(std::move(loader)), path_(std::move(path)), precision_(precision),
        runner_(std::move(runner)), inputs_(std::move(in)), outputs_(std::move(out)) {}

  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  bool LastPhases(ExecutePhases* out) const override { return runner_->LastPhases(out); }

  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override {
    OPTIC_RETURN_IF_ERROR(CheckInputs(inputs_, inputs).Prefixed("torch_aoti: '" + path_ + "'"));
    if (runner_->in_flight() > 0) {
      return Status::Unavailable("torch_aoti: '" + path_ + "': Execute while batches are in "
                                 "flight (Collect them first)");
    }
    return Guarded([&] {
      std::vector<at::Tensor> produced;
      runner_->Run(inputs, Forward(), &produced);
      return ToOutputs(produced, outputs);
    });
  }

  int max_in_flight() const override { return runner_->depth(); }
  int in_flight() const override { return runner_->in_flight(); }
  Status Submit(const std::vector<Tensor>& inputs) override {
    OPTIC_RETURN_IF_ERROR(CheckInputs(inputs_, inputs).Prefixed("torch_aoti: '" + path_ + "'"));
    if (runner_->in_flight() >= runner_->depth()) {
      return Status::Unavailable("torch_aoti: '" + path_ + "': pipeline full; Collect first");
    }
    return Guarded([&] {
      runner_->Submit(inputs, Forward());
      return Status::OK();
    });
  }
  Status Collect(std::vector<Tensor>* outputs, ExecutePhases* phases) override {
    if (runner_->in_flight() == 0) {
      return Status::InvalidArgument("torch_aoti: '" + path_ + "': Collect with nothing in flight");
    }
    return Guarded([&] {
      std::vector<at::Tensor> produced;
      runner_->Collect(&produced, phases);
      return ToOutputs(produced, outputs);
    });
  }
  Status AllocateHostInput(DType dtype, const Shape& shape, Tensor* out) override {
    return Guarded([&] {
      auto t = std::make_shared<at::Tensor>(
          runner_->AllocatePinned(torch_backend::ToScalarType(dtype), shape));
      void* data = t->data_ptr();
      *out = Tensor::FromHolder(std::move(t), data, dtype, shape, {});
      return Status::OK();
    });
  }

 private:
  // The package's forward on the runner's compute stream. fp32 means fp32: the package's
  // convolutions run through cuDNN, which reads the TF32 flags.
  torch_backend::ForwardFn Forward() {
    return [this](const std::vector<at::Tensor>& x, void* stream) {
      return loader_->run(x, stream);
    };
  }

  template <typename Fn>
  Status Guarded(Fn&& fn) {
    try {
      c10::InferenceMode inference_mode;
      at::globalContext().setAllowTF32CuDNN(false);
      at::globalContext().setAllowTF32CuBLAS(false);
      at::globalContext().setBenchmarkCuDNN(true);  // the package's extern convolutions
      return fn();
    } catch (const std::exception& e) {
      const std::string text = torch_backend::ErrorText("run failed for", path_, e);
      return Status::Internal("torch_aoti" + text.substr(5));  // "torch: ..." -> "torch_aoti: ..."
    }
  }

  Status ToOutputs(std::vector<at::Tensor>& produced, std::vector<Tensor>* outputs) const {
    if (produced.size() != outputs_.size()) {
      return Status::Internal("torch_aoti: '" + path_ + "' returned " +
                              std::to_string(produced.size()) + " outputs, the zoo declares " +
                              std::to_string(outputs_.size()));
    }
    outputs->clear();
    for (at::Tensor& o : produced) {
      auto host = std::make_shared<at::Tensor>(o.contiguous());
      DType dtype;
      if (!torch_backend::FromScalarType(host->scalar_type(), &dtype)) {
        return Status::Unsupported("torch_aoti: '" + path_ + "': output dtype has no optic name");
      }
      Shape shape(host->sizes().begin(), host->sizes().end());
      void* data = host->data_ptr();
      outputs->push_back(Tensor::FromHolder(std::move(host), data, dtype, std::move(shape), {}));
    }
    return Status::OK();
  }

  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader_;
  std::string path_;
  Precision precision_;
  std::unique_ptr<CudaRunner> runner_;
  std::vector<TensorInfo> inputs_, outputs_;
};

class AotiBackend final : public Backend {
 public:
  std::string name() const override { return "torch_aoti"; }
  std::string version() const override { return TORCH_VERSION; }

  Capabilities capabilities() const override {
    Capabilities c;
    c.file_extensions = {".pt2"};
    if (CudaAvailable()) c.devices = {DeviceType::kCUDA};
    c.precisions = {Precision::kFP32, Precision::kFP16, Precision::kBF16};
    c.dynamic_batch = true;
    c.model_cache = false;  // the package is the compiled cache; see the header comment
    return c;
  }

  std::vector<OptionSpec> option_specs() const override {
    return {{"cuda_graph", OptionSpec::Type::kBool, {},
             "capture each batch size in a CUDA graph once, then replay it (default false)"},
            {"pipeline_depth", OptionSpec::Type::kInt, {},
             "batches in flight through Submit/Collect (default 3)"}};
  }

  Status Load(const std::string& path, const LoadOptions& options,
              std::unique_ptr<Model>* out) override {
    OPTIC_RETURN_IF_ERROR(ValidateLoadOptions(*this, options, path));
    bool graph = false;
    int depth = 3;
    for (const auto& [k, v] : options.backend_options) {
      if (k == "cuda_graph") graph = torch_backend::Truthy(v);
      if (k == "pipeline_depth") {
        OPTIC_RETURN_IF_ERROR(torch_backend::ParsePipelineDepth(v, &depth).Prefixed("torch_aoti"));
      }
    }
    std::string file;
    OPTIC_RETURN_IF_ERROR(PackageFor(path, options.precision, &file));
    torch_backend::IoSpec spec;
    OPTIC_RETURN_IF_ERROR(torch_backend::FindIoSpec(file, &spec).Prefixed("torch_aoti"));
    if (!spec.found) {
      return Status::InvalidArgument("torch_aoti: cannot load '" + file +
                                     "': no zoo manifest or <file>.json describes its inputs");
    }
    CudaRunnerSettings rs;
    rs.device_index = options.device.index;
    rs.compute_dtype = torch_backend::ComputeDType(options.precision);
    rs.cuda_graph = graph;
    rs.pipeline_depth = depth;
    std::unique_ptr<CudaRunner> runner;
    OPTIC_RETURN_IF_ERROR(torch_backend::CreateCudaRunner(rs, &runner));
    try {
      c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(options.device.index));
      // run_single_threaded: no model-pool locking or event queries, which a graph capture
      // forbids; optic never runs one Model from two threads at once anyway.
      auto loader = std::make_unique<torch::inductor::AOTIModelPackageLoader>(
          file, "model", /*run_single_threaded=*/true);
      *out = std::make_unique<AotiModel>(std::move(loader), file, options.precision,
                                         std::move(runner), spec.inputs, spec.outputs);
    } catch (const std::exception& e) {
      const std::string text = torch_backend::ErrorText("cannot load", file, e);
      return Status::InvalidArgument("torch_aoti" + text.substr(5));
    }
    return Status::OK();
  }

 private:
  // model.<any>.pt2 -> model.<precision>.pt2 in the same directory.
  static Status PackageFor(const std::string& path, Precision precision, std::string* file) {
    const fs::path p(path);
    std::string stem = p.stem().string();  // "model.fp16"
    const size_t dot = stem.rfind('.');
    if (dot != std::string::npos) stem = stem.substr(0, dot);
    const fs::path want = p.parent_path() / (stem + "." + PrecisionName(precision) + ".pt2");
    std::error_code ec;
    if (fs::is_regular_file(want, ec)) {
      *file = want.string();
      return Status::OK();
    }
    if (!fs::is_regular_file(p, ec)) {
      return Status::NotFound("torch_aoti: package '" + path + "' does not exist");
    }
    return Status::Unsupported("torch_aoti: no " + std::string(PrecisionName(precision)) +
                               " package next to '" + path + "' (make it with: optic models "
                               "export --formats aoti-" + PrecisionName(precision) + ")");
  }
};

}  // namespace

std::unique_ptr<Backend> CreateTorchAotiBackend() { return std::make_unique<AotiBackend>(); }

}  // namespace optic
