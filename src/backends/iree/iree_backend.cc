// IREE backend: IREE's ONNX importer and compiler (iree-base-compiler) build the file into a .vmfb
// for this CPU (llvm-cpu, --iree-llvmcpu-target-cpu=host) or for an NVIDIA GPU (cuda,
// --iree-cuda-target=sm_80 by default: IREE 3.13 answers sm_90 with "missing GPU target", and a
// Hopper driver JIT-compiles sm_80 PTX; no GPU needed to compile) in a child process, cached by
// content hash (compile phase, iree_compiler.h); IREE's runtime (iree-base-runtime) runs it in the
// process's embedded CPython (iree_model.h): that wheel ships no C headers or linkable library.
// A compiled .vmfb with its compile record (<name>.json) beside it loads directly, so a module
// compiled here can run on a machine without the compiler.
//
// Devices: cpu (local-task driver); cuda when IREE's cuda driver sees a GPU. Precisions: fp32;
// fp16 on cuda: the graph converted to fp16 before the import (weights and activations; the fp32
// inputs and outputs cast where they enter and leave, as torch's .half() model does).
// Options: opt_level=O0..O3 (--iree-opt-level, default O2); cuda_arch=sm_NN (default sm_80);
// params=inline|external (weights inside the module, or in a parameter archive beside it);
// modules=DIR (modules compiled elsewhere, weights from the ONNX file loaded: iree_model.h).
// threads: the local-task driver's worker count.
#include <filesystem>
#include <mutex>

#include "cache/cache.h"
#include "embedded_python.h"
#include "iree_compiler.h"
#include "iree_model.h"
#include "optic/backend.h"

namespace optic {
namespace {

namespace fs = std::filesystem;
namespace py = pybind11;

std::string Option(const LoadOptions& o, const std::string& key, const std::string& fallback) {
  auto it = o.backend_options.find(key);
  return it == o.backend_options.end() ? fallback : it->second;
}

class IreeBackend final : public Backend {
 public:
  std::string name() const override { return "iree"; }

  std::string version() const override {
    Probe();
    return version_;
  }

  Capabilities capabilities() const override {
    Probe();
    Capabilities c;
    c.file_extensions = {".onnx", ".vmfb"};
    c.devices = {DeviceType::kCPU};
    c.precisions = {Precision::kFP32};
    if (gpus_ > 0) {
      c.devices.push_back(DeviceType::kCUDA);
      c.precisions.push_back(Precision::kFP16);
    }
    c.dynamic_batch = true;  // a new batch size compiles once, on its first Execute
    c.model_cache = true;
    return c;
  }

  std::vector<OptionSpec> option_specs() const override {
    return {{"opt_level", OptionSpec::Type::kEnum, {"O0", "O1", "O2", "O3"},
             "iree-compile --iree-opt-level (default O2)"},
            {"cuda_arch", OptionSpec::Type::kString, {},
             "--iree-cuda-target for device=cuda (default sm_80: IREE 3.13 refuses sm_90; the driver JIT-compiles its PTX on Hopper)"},
            {"params", OptionSpec::Type::kEnum, {"inline", "external"},
             "weights inside the .vmfb (inline, default) or in a .irpa archive beside it"},
            {"modules", OptionSpec::Type::kString, {},
             "a folder of modules compiled elsewhere (<model>-<precision>-b<batch>.vmfb, "
             "params=external): an ONNX load takes its module there and its weights from the "
             "ONNX file; no compiler runs (scripts/gpu/fetch_iree_cuda.sh)"}};
  }

  Status Load(const std::string& path, const LoadOptions& options,
              std::unique_ptr<Model>* out) override {
    OPTIC_RETURN_IF_ERROR(ValidateLoadOptions(*this, options, path));
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return Status::NotFound("iree: model file '" + path + "' does not exist");
    }
    const bool cuda = !options.device.is_cpu();
    if (options.precision == Precision::kFP16 && !cuda) {
      return Status::Unsupported("iree: fp16 is offered on cuda only; use fp32 on cpu");
    }
    iree_backend::RunSettings run;
    run.device_kind = cuda ? "cuda" : "cpu";
    run.device_index = options.device.index;
    run.threads = options.threads;
    if (fs::path(path).extension() == ".vmfb") {
      return iree_backend::IreeModel::CreateFromModule(path, run, PrecisionName(options.precision),
                                                      out);
    }
    if (const std::string dir = Option(options, "modules", ""); !dir.empty()) {
      // models/<name>/model.onnx (the zoo's layout) is module <name>; another file, its stem.
      const fs::path p(path);
      const std::string stem = p.stem().string();
      const std::string name = stem.rfind("model", 0) == 0 && p.has_parent_path()
                                   ? p.parent_path().filename().string()
                                   : stem;
      return iree_backend::IreeModel::CreateFromModules(
          dir, name, path, PrecisionName(options.precision), run, options.batch_size, out);
    }
    if (std::string(OPTIC_IREE_COMPILER_VERSION).empty()) {
      return Status::Unsupported("iree: cannot load '" + path + "': this build has IREE's runtime "
                                 "but not its compiler (" OPTIC_IREE_PYTHON " cannot import "
                                 "iree.compiler and onnx); give a .vmfb compiled elsewhere");
    }
    iree_backend::CompileSettings settings;
    settings.onnx_path = path;
    settings.target = cuda ? "cuda" : "llvm-cpu";
    settings.opt_level = Option(options, "opt_level", "O2");
    settings.cuda_arch = Option(options, "cuda_arch", "sm_80");
    if (settings.cuda_arch.rfind("sm_", 0) != 0) {
      return Status::InvalidArgument("iree: cannot load '" + path + "': cuda_arch must be sm_NN "
                                     "(e.g. sm_80), got '" + settings.cuda_arch + "'");
    }
    settings.precision = PrecisionName(options.precision);
    settings.external_params = Option(options, "params", "inline") == "external";
    settings.cache_root = cache::CacheRoot(options.cache_dir);
    OPTIC_RETURN_IF_ERROR(cache::Sha256File(path, &settings.onnx_sha256).Prefixed("iree"));
    return iree_backend::IreeModel::CreateFromOnnx(settings, run, options.batch_size, out);
  }

 private:
  // Asks Python once for the runtime's version and the GPUs its cuda driver sees; a Python that
  // cannot start leaves the backend listed (cpu only) with the reason as its version, and Load
  // returns the error.
  void Probe() const {
    std::call_once(probed_, [this] {
      py::module_* mod = nullptr;
      Status st = iree_backend::ImportRuntime(&mod);
      if (!st.ok()) {
        version_ = "unavailable (" + st.message() + ")";
        return;
      }
      py::gil_scoped_acquire gil;
      try {
        const std::string compiler = OPTIC_IREE_COMPILER_VERSION;
        version_ = mod->attr("versions")().cast<std::string>() + " (embedded Python; compile: " +
                   (compiler.empty() ? "none, .vmfb only"
                                     : "iree-base-compiler " + compiler + ", child process") +
                   ")";
        gpus_ = mod->attr("cuda_devices")().cast<int>();
      } catch (const py::error_already_set& e) {
        version_ = "unavailable (" + python::ErrorText(e) + ")";
      }
    });
  }

  mutable std::once_flag probed_;
  mutable std::string version_;
  mutable int gpus_ = 0;
};

}  // namespace

std::unique_ptr<Backend> CreateIreeBackend() { return std::make_unique<IreeBackend>(); }

}  // namespace optic
