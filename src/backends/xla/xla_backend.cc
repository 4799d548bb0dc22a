// XLA backend (the seeds' TensorFlow-XLA row), through JAX in an embedded CPython: the PJRT C API
// header does not ship with JAX's wheels, so optic cannot drive the PJRT plugin from C++ directly.
// optic_xla.py interprets the zoo's ONNX graph with jax.numpy/lax under one jax.jit; this file
// starts Python (python_runtime.h), loads a Program and wraps it as an optic Model (xla_model.h).
//
// Devices: cpu, and cuda when JAX sees a GPU (its CUDA PJRT plugin). Precisions: fp32 (also on
// GPUs: dots at HIGHEST, not XLA's tf32 default), tf32 on cuda, fp16 and bf16 (weights and
// inputs cast on the device; LayerNorm/Softmax/pool statistics in fp32). Outputs are fp32.
// Load = ONNX parse + weights to the device + trace + XLA compile for options.batch_size (compile
// time is cold load). Another batch size compiles on its first Execute (jit's shape cache).
// Cache: with cache_dir, JAX's persistent compilation cache (<cache_dir>/jax) makes a second load
// in a new process skip XLA compilation; it is process-wide, so the first cache_dir wins.
// threads: XLA's CPU client sizes its own pool from the machine; the option is not applied.
#include <filesystem>
#include <mutex>

#include "optic/backend.h"
#include "python_runtime.h"
#include "xla_model.h"

namespace optic {
namespace {

namespace fs = std::filesystem;
namespace py = pybind11;

class XlaBackend final : public Backend {
 public:
  std::string name() const override { return "xla"; }

  std::string version() const override {
    Probe();
    return version_;
  }

  Capabilities capabilities() const override {
    Probe();
    Capabilities c;
    c.file_extensions = {".onnx"};
    c.devices = {DeviceType::kCPU};
    c.precisions = {Precision::kFP32, Precision::kFP16, Precision::kBF16};
    if (gpus_ > 0) {
      c.devices.push_back(DeviceType::kCUDA);
      c.precisions.push_back(Precision::kTF32);
    }
    c.dynamic_batch = true;  // a new batch size compiles once, on its first Execute
    c.model_cache = true;
    return c;
  }

  Status Load(const std::string& path, const LoadOptions& options,
              std::unique_ptr<Model>* out) override {
    OPTIC_RETURN_IF_ERROR(ValidateLoadOptions(*this, options, path));
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return Status::NotFound("xla: model file '" + path + "' does not exist");
    }
    if (options.precision == Precision::kTF32 && options.device.is_cpu()) {
      return Status::Unsupported("xla: tf32 is a GPU precision; use fp32 on cpu");
    }
    py::module_* mod = nullptr;
    OPTIC_RETURN_IF_ERROR(xla::StartPython(&mod));
    py::gil_scoped_acquire gil;
    try {
      py::object program = mod->attr("Program")(
          path, options.device.is_cpu() ? "cpu" : "cuda", options.device.index,
          PrecisionName(options.precision), options.cache_dir, std::max(1, options.batch_size));
      return xla::XlaModel::Create(std::move(program), out)
          .Prefixed("xla: cannot load '" + path + "'");
    } catch (const py::error_already_set& e) {
      const std::string why = "xla: cannot load '" + path + "': " + xla::PythonError(e);
      if (e.matches(PyExc_NotImplementedError)) return Status::Unsupported(why);
      if (e.matches(PyExc_MemoryError)) return Status::OutOfMemory(why);
      return Status::InvalidArgument(why);
    } catch (const std::exception& e) {
      return Status::Internal("xla: cannot load '" + path + "': " + e.what());
    }
  }

 private:
  // Asks Python once for the versions and the GPU count; a Python that cannot start leaves the
  // backend listed (cpu only) with the reason as its version, and Load returns the error.
  void Probe() const {
    std::call_once(probed_, [this] {
      py::module_* mod = nullptr;
      Status st = xla::StartPython(&mod);
      if (!st.ok()) {
        version_ = "unavailable (" + st.message() + ")";
        return;
      }
      py::gil_scoped_acquire gil;
      try {
        version_ = mod->attr("versions")().cast<std::string>();
        gpus_ = mod->attr("gpu_count")().cast<int>();
      } catch (const py::error_already_set& e) {
        version_ = "unavailable (" + xla::PythonError(e) + ")";
      }
    });
  }

  mutable std::once_flag probed_;
  mutable std::string version_;
  mutable int gpus_ = 0;
};

}  // namespace

std::unique_ptr<Backend> CreateXlaBackend() { return std::make_unique<XlaBackend>(); }

}  // namespace optic
