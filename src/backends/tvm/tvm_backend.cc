// TVM backend: Apache TVM's Relax ONNX frontend compiles the file for this CPU (llvm
// -mcpu=native) into a shared library (compile phase, tvm_compiler.h, cached by content hash);
// TVM's C++ runtime runs it (tvm_model.h). Compiling runs optic_tvm_compile.py in a child process
// of OPTIC_TVM_PYTHON: TVM's compiler is Python-driven, and a child keeps its tuning workers and
// any crash out of optic's process (and apart from the xla backend's embedded interpreter).
//
// Devices: cpu only. PyPI's apache-tvm has LLVM but no CUDA code generation; GPU TVM needs a
// CUDA-enabled build of TVM from source. Precisions: fp32 only: TVM can rewrite a graph to fp16
// (ToMixedPrecision), but on x86 LLVM emulates fp16 arithmetic, so that row would measure an
// emulation, not a precision this CPU runs.
// Options: tuning_trials=0 (default) uses TVM's default schedules and a symbolic batch axis;
// N > 0 runs meta-schedule with N trials in all (static shapes: one library per batch size).
// threads: sizes TVM's thread pool of the thread that executes.
#include <filesystem>

#include "cache/cache.h"
#include "optic/backend.h"
#include "tvm_compiler.h"
#include "tvm_model.h"

namespace optic {
namespace {

namespace fs = std::filesystem;

class TvmBackend final : public Backend {
 public:
  std::string name() const override { return "tvm"; }

  std::string version() const override {
    return std::string(OPTIC_TVM_VERSION) + " (tvm-ffi " + OPTIC_TVM_FFI_VERSION +
           "; C++ runtime; compile: Relax ONNX frontend, llvm -mcpu=native)";
  }

  Capabilities capabilities() const override {
    Capabilities c;
    c.file_extensions = {".onnx"};
    c.devices = {DeviceType::kCPU};
    c.precisions = {Precision::kFP32};
    c.dynamic_batch = true;  // untuned: symbolic batch; tuned: a new batch compiles once
    c.model_cache = true;
    return c;
  }

  std::vector<OptionSpec> option_specs() const override {
    return {{"tuning_trials", OptionSpec::Type::kInt, {},
             "meta-schedule trials in all (0 = no tuning, TVM's default schedules); tuned "
             "libraries are built per batch size and cached"}};
  }

  Status Load(const std::string& path, const LoadOptions& options,
              std::unique_ptr<Model>* out) override {
    OPTIC_RETURN_IF_ERROR(ValidateLoadOptions(*this, options, path));
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return Status::NotFound("tvm: model file '" + path + "' does not exist");
    }
    tvm_backend::CompileSettings settings;
    settings.onnx_path = path;
    if (auto it = options.backend_options.find("tuning_trials");
        it != options.backend_options.end()) {
      settings.trials = std::stoi(it->second);  // an integer: ValidateLoadOptions checked it
      if (settings.trials < 0) {
        return Status::InvalidArgument("tvm: cannot load '" + path + "': tuning_trials must be "
                                       "0 (no tuning) or a positive trial budget, got " +
                                       it->second);
      }
    }
    settings.cache_root = cache::CacheRoot(options.cache_dir);
    OPTIC_RETURN_IF_ERROR(cache::Sha256File(path, &settings.onnx_sha256).Prefixed("tvm"));
    return tvm_backend::TvmModel::Create(settings, options, out);
  }
};

}  // namespace

std::unique_ptr<Backend> CreateTvmBackend() { return std::make_unique<TvmBackend>(); }

}  // namespace optic
