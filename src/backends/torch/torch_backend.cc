// libtorch backend: runs TorchScript files (.pt, made by torch.jit.trace/script + save) through
// libtorch's C++ API. Written against the API common to libtorch 1.13 (Debian's libtorch-dev, CPU
// only) and 2.x (the pip wheel's libtorch, with CUDA).
//
// Shapes: TorchScript keeps no tensor shapes, so inputs and outputs are described by a sidecar
// "<file>.json" or the zoo manifest next to the file (torch_io_spec.h). Without either, the model
// declares one input per forward() argument with shape [-1] (batch axis, rest unknown: the rank
// is not checked and libtorch reports shape errors at Execute) and one fp32 output of shape [-1];
// tools that need concrete shapes (parity, bench) take them from the zoo instead.
//
// Devices and precisions, decided at run time (capabilities()):
//   cpu:     fp32, bf16 (weights and activations in bfloat16; fast with AVX-512 BF16/AMX, correct
//            everywhere). fp16 only with libtorch 2.x: 1.13 has no Half conv kernels on the CPU.
//   cuda[:N] (only where torch::cuda::is_available()): fp32 (TF32 off in cuBLAS and cuDNN),
//            tf32, fp16, bf16. Host inputs are copied host->device and outputs device->host
//            inside Execute; inputs already on the model's CUDA device are read there
//            (accepts_device_tensors; a CPU model still refuses device inputs).
// Low-precision models take and return fp32 tensors; the conversion happens inside Execute.
//
// Options: freeze (bool, default true): torch::jit::freeze inlines the weights as constants and
// folds conv+batchnorm; optimize (bool, default true, needs freeze): torch::jit::
// optimize_for_inference, which on the CPU moves convolutions to oneDNN (default false on CUDA,
// see ParseSettings; skipped for a module whose hardswish/hardsigmoid/hardtanh/clamp oneDNN would
// answer wrongly, see MkldnnEltwiseSafe). Debian's libtorch 1.13 is built with a generic BLAS (no MKL), so its plain
// convolutions are slow: resnet50 at batch 1 took ~2.6 s per run plain or frozen and ~0.3-0.35 s
// optimized, max |diff| 9e-5 (Python over the same libtorch, 2 loaded cores). pipeline_depth
// (int, default 3): CUDA batches in flight (optic/pipelining.h). cudnn_benchmark (bool, default
// true): cuDNN autotuning per shape, as stock PyTorch inference scripts set it (on the H200 at
// batch 256 fp16, optic's forward took 18.0 ms without it against stock eager's 15.1 ms with it).
// jit_optimize (bool): the
// TorchScript graph executor's profiling-guided optimizations (fusion) on the first runs; default
// on with libtorch 1.x, off with 2.x, where TorchScript is deprecated and densenet201's second
// forward pass did not finish within 45 s on PyTorch 2.11 (CUDA, with and without freeze and
// optimize_for_inference). channels_last (bool, default false): NHWC weights and inputs
// (for tensor cores on CUDA).
// Threads: LoadOptions::threads sets libtorch's intra-op pool (at::set_num_threads), which is
// process-wide (per calling thread under OpenMP, which is why Execute sets it again); 0 means all
// cores. LoadOptions::inter_op_threads sets the inter-op pool on the first Load of the process
// only: libtorch refuses a second call, so later values are ignored.
// No optimized-model cache (model_cache false): freezing takes well under a second.
#include <ATen/Parallel.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/runtime/graph_iterator.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "optic/backend.h"
#include "torch_io_spec.h"
#include "torch_model.h"

namespace optic {
namespace {

namespace fs = std::filesystem;
using torch_backend::TorchModel;
using torch_backend::TorchSettings;
using torch_backend::Truthy;
using torch_backend::ParsePipelineDepth;

// optimize_for_inference turns hardswish, hardsigmoid and hardtanh (relu6) into oneDNN
// element-wise ops on blocked tensors; with Debian's libtorch 1.13 these answer wrongly when the
// channel count is not a multiple of 16 (conv 3->8 + hardswish: rel_l2 0.44 against the frozen
// module; 16, 32 and 48 channels agree to 1e-7). MobileNet-V3's 72- and 40-channel blocks made
// lraspp_mobilenet_v3 off by rel_l2 1.5 and mini_depth by 0.19; x.clamp(0, 6) failed the pass
// with an internal assert. Such a module stays frozen but unoptimized: one of these ops whose
// input is not a convolution with 16k output channels is unsafe.
bool MkldnnEltwiseSafe(std::shared_ptr<torch::jit::Graph> graph) {
  static const std::set<std::string> kHard = {"aten::hardswish", "aten::hardswish_",
                                              "aten::hardsigmoid", "aten::hardsigmoid_",
                                              "aten::hardtanh", "aten::hardtanh_",
                                              "aten::relu6", "aten::relu6_",
                                              "aten::clamp", "aten::clamp_"};
  for (torch::jit::DepthFirstGraphNodeIterator it(graph); torch::jit::Node* n = it.next();) {
    if (kHard.count(n->kind().toQualString()) == 0) continue;
    const torch::jit::Node* p = n->input(0)->node();
    const std::string producer = p->kind().toQualString();
    if ((producer != "aten::_convolution" && producer != "aten::conv2d") || p->inputs().size() < 2) return false;
    const auto w = torch::jit::toIValue(p->input(1));
    if (!w || !w->isTensor() || w->toTensor().dim() < 1 || w->toTensor().size(0) % 16 != 0) return false;
  }
  return true;
}

// libtorch 1.x has no Half convolution on the CPU.
constexpr bool kCpuHalf = TORCH_VERSION_MAJOR >= 2;

std::vector<Precision> PrecisionsOn(DeviceType device) {
  if (device == DeviceType::kCUDA) {
    return {Precision::kFP32, Precision::kTF32, Precision::kFP16, Precision::kBF16};
  }
  if (kCpuHalf) return {Precision::kFP32, Precision::kFP16, Precision::kBF16};
  return {Precision::kFP32, Precision::kBF16};
}

void SetInterOpThreadsOnce(int n) {
  static std::once_flag once;
  std::call_once(once, [n] {
    try {
      at::set_num_interop_threads(std::max(1, n));
    } catch (const std::exception&) {
      // Someone in this process already ran inter-op work or set it; keep theirs.
    }
  });
}

class TorchBackend final : public Backend {
 public:
  std::string name() const override { return "torch"; }
  std::string version() const override { return TORCH_VERSION; }

  Capabilities capabilities() const override {
    Capabilities c;
    c.file_extensions = {".pt", ".torchscript"};
    c.devices = {DeviceType::kCPU};
    c.precisions = PrecisionsOn(DeviceType::kCPU);
    if (CudaAvailable()) {
      c.devices.push_back(DeviceType::kCUDA);
      c.precisions = PrecisionsOn(DeviceType::kCUDA);  // a superset of the CPU's
      c.accepts_device_tensors = true;  // on the model's own CUDA device (torch_model.cc)
    }
    c.dynamic_batch = true;
    c.model_cache = false;
    return c;
  }

  std::vector<OptionSpec> option_specs() const override {
    return {{"freeze", OptionSpec::Type::kBool, {},
             "torch::jit::freeze the module: weights become constants, conv+bn fold "
             "(default true)"},
            {"optimize", OptionSpec::Type::kBool, {},
             "also run torch::jit::optimize_for_inference: oneDNN convolutions on the CPU "
             "(default true on the CPU, false on CUDA)"},
            {"channels_last", OptionSpec::Type::kBool, {},
             "NHWC memory order for 4-d weights and inputs (default false)"},
            {"cuda_graph", OptionSpec::Type::kBool, {},
             "cuda only: capture each batch shape in a CUDA graph once, then replay it "
             "(default false)"},
            {"cudnn_benchmark", OptionSpec::Type::kBool, {},
             "cuda only: let cuDNN time its algorithms per input shape and keep the fastest "
             "(default true; process-global in libtorch)"},
            {"jit_optimize", OptionSpec::Type::kBool, {},
             "TorchScript's graph-executor optimizations (profiling runs, then fusion) "
             "(default true with libtorch 1.x, false with 2.x)"},
            {"pipeline_depth", OptionSpec::Type::kInt, {},
             "cuda only: batches in flight through Submit/Collect, each with its own "
             "buffers (default 3)"}};
  }

  Status Load(const std::string& path, const LoadOptions& options,
              std::unique_ptr<Model>* out) override {
    auto fail = [&](const Status& s) {
      std::string m = s.message();
      if (m.rfind("torch: ", 0) == 0) m = m.substr(7);
      return Status(s.code(), "torch: cannot load '" + path + "': " + m);
    };
    Status s = ValidateLoadOptions(*this, options);
    if (!s.ok()) return fail(s);
    TorchSettings settings;
    s = ParseSettings(options, &settings);
    if (!s.ok()) return fail(s);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return Status::NotFound("torch: model file '" + path + "' does not exist");
    }
    torch_backend::IoSpec spec;
    s = torch_backend::FindIoSpec(path, &spec);
    if (!s.ok()) return fail(s);

    at::set_num_threads(settings.threads);
    SetInterOpThreadsOnce(options.inter_op_threads);
    torch::jit::Module module;
    try {
      module = torch::jit::load(path, c10::Device(c10::kCPU));
    } catch (const std::exception& e) {
      return Status::InvalidArgument(torch_backend::ErrorText(
          "cannot load", path, e) + " (not a TorchScript file, or a corrupt one?)");
    }
    try {
      OPTIC_RETURN_IF_ERROR(Prepare(settings, &module));
      std::vector<TensorInfo> inputs, outputs;
      OPTIC_RETURN_IF_ERROR(Describe(module, spec, &inputs, &outputs).Prefixed(
          "torch: cannot load '" + path + "'"));
      *out = std::make_unique<TorchModel>(std::move(module), settings, path, std::move(inputs),
                                          std::move(outputs), spec.found);
    } catch (const c10::OutOfMemoryError& e) {
      return Status::OutOfMemory(torch_backend::ErrorText("out of memory loading", path, e));
    } catch (const std::exception& e) {
      return Status::Internal(torch_backend::ErrorText("cannot prepare", path, e));
    }
    return Status::OK();
  }

 private:
  static bool CudaAvailable() {
    try {
      return torch::cuda::is_available();
    } catch (const std::exception&) {
      return false;  // a broken driver counts as no CUDA
    }
  }

  static Status ParseSettings(const LoadOptions& options, TorchSettings* s) {
    s->device = options.device;
    s->precision = options.precision;
    s->threads = options.threads > 0 ? options.threads
                                     : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    for (const auto& [key, value] : options.backend_options) {
      if (key == "freeze") s->freeze = Truthy(value);
      if (key == "optimize") s->optimize = Truthy(value);
      if (key == "channels_last") s->channels_last = Truthy(value);
      if (key == "cuda_graph") s->cuda_graph = Truthy(value);
      if (key == "jit_optimize") s->jit_optimize = Truthy(value);
      if (key == "cudnn_benchmark") s->cudnn_benchmark = Truthy(value);
      if (key == "pipeline_depth") OPTIC_RETURN_IF_ERROR(ParsePipelineDepth(value, &s->pipeline_depth));
    }
    // optimize_for_inference exists for oneDNN on the CPU; on CUDA it only adds conv+add+relu
    // fusion, and with PyTorch 2.11 it did not finish on densenet201 within 240 s (GPU machine,
    // 2026-11-21/22). So on CUDA it runs only when asked for.
    if (!s->device.is_cpu() && options.backend_options.count("optimize") == 0) s->optimize = false;
    if (s->cuda_graph && s->device.is_cpu()) {
      return Status::InvalidArgument("option cuda_graph=true needs a cuda device");
    }
    const bool optimize_named = options.backend_options.count("optimize") > 0;
    if (!s->freeze && s->optimize) {
      // optimize_for_inference works on frozen modules only; freeze=false alone turns it off.
      if (optimize_named) return Status::InvalidArgument("option optimize=true needs freeze=true");
      s->optimize = false;
    }
    const auto allowed = PrecisionsOn(s->device.type);
    if (std::find(allowed.begin(), allowed.end(), s->precision) == allowed.end()) {
      return Status::Unsupported(std::string("precision ") + PrecisionName(s->precision) +
                                 " is not supported on " + DeviceName(s->device) +
                                 " by libtorch " + TORCH_VERSION);
    }
    if (!s->device.is_cpu()) {
      const int count = static_cast<int>(torch::cuda::device_count());
      if (s->device.index < 0 || s->device.index >= count) {
        return Status::UnsupportedHardware("device " + DeviceName(s->device) + " does not exist (" +
                                           std::to_string(count) + " CUDA devices)");
      }
    }
    return Status::OK();
  }

  // Converts the loaded CPU fp32 module to the settings: dtype, device, memory order, freezing.
  static Status Prepare(const TorchSettings& s, torch::jit::Module* module) {
    module->eval();
    const c10::Device device = s.device.is_cpu() ? c10::Device(c10::kCPU)
                                                 : c10::Device(c10::kCUDA, s.device.index);
    module->to(device, torch_backend::ComputeDType(s.precision));
    if (s.channels_last) {
      torch::NoGradGuard no_grad;
      for (at::Tensor p : module->parameters()) {
        if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
      }
    }
    // Without the graph executor's optimizations nothing inlines submodule calls at run time,
    // and a frozen module has dropped its submodules' methods (on PyTorch 2.11: "Couldn't find
    // method: 'forward' on class ... Flatten"): inline them into forward() first.
    // The passes below read the graph executor's optimize flag, which is per thread and which
    // Execute turns off on its thread with jit_optimize=false. Frozen with the flag off, a module
    // has lost its submodules' methods (the second model of an optic serve process failed its
    // warm-up, run on the loading thread: "Couldn't find method: 'forward2' on class ... ReLU").
    // Prepare runs with the flag on, the state of a fresh thread, and restores it after.
    const bool executor_optimize = torch::jit::getGraphExecutorOptimize();
    torch::jit::setGraphExecutorOptimize(true);
    if (!s.jit_optimize) torch::jit::Inline(*module->get_method("forward").graph());
    if (s.freeze) *module = torch::jit::freeze(*module);
    if (s.optimize && MkldnnEltwiseSafe(module->get_method("forward").graph())) {
      *module = torch::jit::optimize_for_inference(*module);
    }
    torch::jit::setGraphExecutorOptimize(executor_optimize);
    return Status::OK();
  }

  // Inputs and outputs from the sidecar/manifest, checked against forward()'s arguments.
  static Status Describe(const torch::jit::Module& module, const torch_backend::IoSpec& spec,
                         std::vector<TensorInfo>* inputs, std::vector<TensorInfo>* outputs) {
    const auto method = module.find_method("forward");
    if (!method) return Status::InvalidArgument("the module has no forward() method");
    const auto& args = method->function().getSchema().arguments();
    std::vector<std::string> names;  // argument 0 is `self`
    for (size_t i = 1; i < args.size(); ++i) names.push_back(args[i].name());
    if (!spec.found) {
      for (const auto& n : names) inputs->push_back({n, DType::kFP32, {-1}});
      outputs->push_back({"output", DType::kFP32, {-1}});
      return Status::OK();
    }
    if (spec.inputs.size() != names.size()) {
      return Status::InvalidArgument(spec.source + " describes " +
                                     std::to_string(spec.inputs.size()) +
                                     " inputs, but forward() takes " +
                                     std::to_string(names.size()));
    }
    *inputs = spec.inputs;
    *outputs = spec.outputs;
    return Status::OK();
  }
};

}  // namespace

std::unique_ptr<Backend> CreateTorchBackend() { return std::make_unique<TorchBackend>(); }

}  // namespace optic
