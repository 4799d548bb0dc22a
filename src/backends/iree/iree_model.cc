#include "iree_model.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <tuple>

#include "embedded_python.h"

namespace optic::iree_backend {
namespace {

namespace fs = std::filesystem;
namespace py = pybind11;
using Clock = std::chrono::steady_clock;

const char* NumpyName(DType t) {
  switch (t) {
    case DType::kFP32: return "float32";
    case DType::kFP16: return "float16";
    case DType::kINT8: return "int8";
    case DType::kUINT8: return "uint8";
    case DType::kINT32: return "int32";
    case DType::kINT64: return "int64";
    case DType::kBF16: return nullptr;  // numpy has no bf16 without ml_dtypes
  }
  return nullptr;
}

std::string ShapeKey(const std::vector<TensorInfo>& shapes) {
  std::string key;
  for (const TensorInfo& t : shapes) {
    key += t.name + "=";
    for (int64_t d : t.shape) key += std::to_string(d) + ",";
    key += ";";
  }
  return key;
}

// Where optic_iree.py is looked for: $OPTIC_IREE_MODULE_DIR, else the folder of the running
// executable if it holds optic_iree.py, else the source folder compiled in.
std::string ModuleDir() {
  if (const char* env = std::getenv("OPTIC_IREE_MODULE_DIR"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::is_regular_file(exe.parent_path() / "optic_iree.py", ec)) {
    return exe.parent_path().string();
  }
  return OPTIC_IREE_MODULE_DIR;
}

}  // namespace

Status ImportRuntime(py::module_** out) {
  return python::Import(OPTIC_IREE_PYTHON, "iree", "optic_iree", ModuleDir(), out);
}

Status IreeModel::CreateFromOnnx(const CompileSettings& compile, const RunSettings& run,
                                 int batch_size, std::unique_ptr<Model>* out) {
  std::unique_ptr<IreeModel> model(new IreeModel(compile, run, true));
  OPTIC_RETURN_IF_ERROR(Describe(compile, &model->inputs_, &model->outputs_));
  for (const TensorInfo& t : model->inputs_) {
    if (!NumpyName(t.dtype)) {
      return Status::Unsupported("iree: cannot load '" + compile.onnx_path + "': input '" +
                                 t.name + "' is " + DTypeName(t.dtype) +
                                 ", which optic's iree bridge does not pass");
    }
  }
  // The batch is the only variable axis: compile for the load's batch now, so the load phase
  // holds the compile. Other variable axes wait for the first Execute's shapes.
  std::vector<TensorInfo> shapes = model->inputs_;
  bool fixed = true;
  for (TensorInfo& t : shapes) {
    for (size_t axis = 0; axis < t.shape.size(); ++axis) {
      if (t.shape[axis] >= 0) continue;
      if (axis == 0) {
        t.shape[axis] = std::max(1, batch_size);
      } else {
        fixed = false;
      }
    }
  }
  if (fixed) {
    Program* program = nullptr;
    OPTIC_RETURN_IF_ERROR(model->ProgramFor(shapes, &program));
  }
  *out = std::move(model);
  return Status::OK();
}

Status IreeModel::CreateFromModule(const std::string& vmfb, const RunSettings& run,
                                   const std::string& precision, std::unique_ptr<Model>* out) {
  CompileSettings none;
  none.onnx_path = vmfb;
  std::unique_ptr<IreeModel> model(new IreeModel(none, run, false));
  Artefact artefact;
  OPTIC_RETURN_IF_ERROR(ReadArtefact(vmfb, &artefact));
  const std::string target = run.device_kind == "cuda" ? "cuda" : "llvm-cpu";
  if (artefact.target != target || artefact.precision != precision) {
    return Status::InvalidArgument("iree: '" + vmfb + "' was compiled for " + artefact.target +
                                   " " + artefact.precision + ", not for " + target + " " +
                                   precision + " (device=" + run.device_kind + ")");
  }
  model->inputs_ = artefact.inputs;
  model->outputs_ = artefact.outputs;
  OPTIC_RETURN_IF_ERROR(model->Start(artefact, ShapeKey(artefact.inputs)));
  model->loaded_from_cache_ = true;
  *out = std::move(model);
  return Status::OK();
}

Status IreeModel::CreateFromModules(const std::string& dir, const std::string& name,
                                    const std::string& onnx_path, const std::string& precision,
                                    const RunSettings& run, int batch_size,
                                    std::unique_ptr<Model>* out) {
  CompileSettings none;
  none.onnx_path = onnx_path;
  std::unique_ptr<IreeModel> model(new IreeModel(none, run, true));
  model->modules_dir_ = dir;
  model->module_name_ = name;
  model->precision_ = precision;
  Artefact first;
  std::vector<TensorInfo> probe = {TensorInfo{"", DType::kFP32, {std::max(1, batch_size)}}};
  OPTIC_RETURN_IF_ERROR(model->ModuleFor(probe, &first));
  model->inputs_ = first.declared_inputs;
  model->outputs_ = first.declared_outputs;
  Program* program = nullptr;
  OPTIC_RETURN_IF_ERROR(model->ProgramFor(first.inputs, &program));
  model->loaded_from_cache_ = true;
  *out = std::move(model);
  return Status::OK();
}

// The module of modules_dir_ for these shapes: named by the batch (the first input's first
// axis); its record must name this target and precision and these shapes.
Status IreeModel::ModuleFor(const std::vector<TensorInfo>& shapes, Artefact* out) const {
  const int64_t batch = shapes.empty() || shapes[0].shape.empty() ? 1 : shapes[0].shape[0];
  const std::string file = module_name_ + "-" + precision_ + "-b" + std::to_string(batch) + ".vmfb";
  const fs::path vmfb = fs::path(modules_dir_) / file;
  std::error_code ec;
  if (!fs::is_regular_file(vmfb, ec)) {
    return Status::Unsupported("iree: no module '" + file + "' in modules=" + modules_dir_ +
                               " for '" + compile_.onnx_path + "' at batch " +
                               std::to_string(batch) + " (scripts/gpu/fetch_iree_cuda.sh "
                               "compiles them)");
  }
  OPTIC_RETURN_IF_ERROR(ReadArtefact(vmfb.string(), out, /*allow_missing_params=*/true));
  const std::string target = run_settings_.device_kind == "cuda" ? "cuda" : "llvm-cpu";
  if (out->target != target || out->precision != precision_ || out->param_map_json.empty()) {
    return Status::InvalidArgument("iree: '" + vmfb.string() + "' is a " + out->target + " " +
                                   out->precision + " module" +
                                   (out->param_map_json.empty() ? " with its weights inside" : "") +
                                   "; modules= needs " + target + " " + precision_ +
                                   " modules compiled with params=external");
  }
  if (!shapes[0].name.empty()) {
    for (size_t i = 0; i < shapes.size() && i < out->inputs.size(); ++i) {
      if (out->inputs[i].shape != shapes[i].shape) {
        return Status::Unsupported("iree: '" + vmfb.string() + "' was compiled for input '" +
                                   out->inputs[i].name + "' of another shape");
      }
    }
  }
  return Status::OK();
}

IreeModel::~IreeModel() {
  py::gil_scoped_acquire gil;
  programs_.clear();
}

Status IreeModel::Start(const Artefact& artefact, const std::string& key) {
  py::module_* mod = nullptr;
  OPTIC_RETURN_IF_ERROR(ImportRuntime(&mod));
  auto program = std::make_unique<Program>();
  program->outputs = artefact.outputs;
  const bool weights_from_onnx = !modules_dir_.empty();
  py::gil_scoped_acquire gil;
  try {
    py::object params = py::none(), onnx = py::none(), param_map = py::none();
    if (weights_from_onnx) {
      onnx = py::str(compile_.onnx_path);
      param_map = py::module_::import("json").attr("loads")(artefact.param_map_json);
    } else if (!artefact.params.empty()) {
      params = py::str(artefact.params);
    }
    program->program = mod->attr("Program")(
        artefact.vmfb, artefact.entry, run_settings_.device_kind, run_settings_.device_index,
        run_settings_.threads, params, static_cast<int>(artefact.outputs.size()), onnx, param_map);
    program->run = program->program.attr("run");
  } catch (const py::error_already_set& e) {
    const std::string why = "iree: cannot load the module '" + artefact.vmfb + "' (from '" +
                            compile_.onnx_path + "') on " + run_settings_.device_kind + ": " +
                            python::ErrorText(e);
    if (e.matches(PyExc_MemoryError)) return Status::OutOfMemory(why);
    return Status::InvalidArgument(why);
  }
  programs_[key] = std::move(program);
  return Status::OK();
}

Status IreeModel::ProgramFor(const std::vector<TensorInfo>& shapes, Program** out) {
  const std::string key = ShapeKey(shapes);
  if (auto it = programs_.find(key); it != programs_.end()) {
    *out = it->second.get();
    return Status::OK();
  }
  if (!from_onnx_) {
    return Status::InvalidArgument("iree: '" + compile_.onnx_path + "' was compiled for other "
                                   "input shapes; compile the ONNX file for these");
  }
  Artefact artefact;
  if (!modules_dir_.empty()) {
    OPTIC_RETURN_IF_ERROR(ModuleFor(shapes, &artefact));
  } else {
    OPTIC_RETURN_IF_ERROR(GetArtefact(compile_, shapes, &artefact));
  }
  OPTIC_RETURN_IF_ERROR(Start(artefact, key));
  if (programs_.size() == 1) loaded_from_cache_ = artefact.cache_hit;
  *out = programs_[key].get();
  return Status::OK();
}

Status IreeModel::Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) {
  last_ok_ = false;
  OPTIC_RETURN_IF_ERROR(CheckInputs(inputs_, inputs).Prefixed("iree"));
  std::vector<TensorInfo> shapes = inputs_;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].is_host()) return Status::InvalidArgument("iree: inputs must be host tensors");
    shapes[i].shape = inputs[i].shape();
  }
  Program* program = nullptr;
  OPTIC_RETURN_IF_ERROR(ProgramFor(shapes, &program));
  const auto t0 = Clock::now();
  double python_s = 0;
  ExecutePhases phases;
  std::vector<Tensor> result;
  {
    py::gil_scoped_acquire gil;
    try {
      py::tuple args(inputs.size());
      for (size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& t = inputs[i];
        const size_t item = DTypeSize(t.dtype());
        std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
        std::vector<py::ssize_t> strides(shape.size(), static_cast<py::ssize_t>(item));
        for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
        // A base object makes numpy borrow the memory instead of copying it; the array lives
        // only for this call.
        py::array a(py::dtype(NumpyName(t.dtype())), shape, strides, t.raw(), py::none());
        a.attr("setflags")(py::arg("write") = false);
        args[i] = std::move(a);
      }
      py::tuple ret = program->run(*args);
      python_s = ret[1].cast<double>();
      auto ph = ret[2].cast<std::tuple<double, double, double>>();
      phases.h2d_ms = std::get<0>(ph) * 1e3;
      phases.compute_ms = std::get<1>(ph) * 1e3;
      phases.d2h_ms = std::get<2>(ph) * 1e3;
      py::list outs = ret[0];
      if (outs.size() != outputs_.size()) {
        return Status::Internal("iree: the module returned " + std::to_string(outs.size()) +
                                " outputs, the graph declares " + std::to_string(outputs_.size()));
      }
      for (size_t i = 0; i < outs.size(); ++i) {
        const TensorInfo& want = outputs_[i];
        py::array arr = py::array::ensure(outs[i]);
        if (!arr || !NumpyName(want.dtype) ||
            !arr.dtype().is(py::dtype(NumpyName(want.dtype)))) {
          return Status::Internal("iree: output '" + want.name + "' is not " +
                                  DTypeName(want.dtype) + " as the graph declares");
        }
        Shape shape(arr.shape(), arr.shape() + arr.ndim());
        Tensor t;
        OPTIC_RETURN_IF_ERROR(Tensor::Empty(want.dtype, shape, &t));
        std::memcpy(t.raw(), arr.data(), t.nbytes());
        result.push_back(std::move(t));
      }
    } catch (const py::error_already_set& e) {
      const std::string why = "iree: run of '" + compile_.onnx_path + "' failed: " +
                              python::ErrorText(e);
      if (e.matches(PyExc_MemoryError)) return Status::OutOfMemory(why);
      return Status::Internal(why);
    } catch (const std::exception& e) {
      return Status::Internal("iree: run of '" + compile_.onnx_path + "' failed: " + e.what());
    }
  }
  *outputs = std::move(result);
  const double total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  phases.bridge_ms = total_ms - python_s * 1e3;
  last_ = phases;
  last_ok_ = true;
  return Status::OK();
}

bool IreeModel::LastPhases(ExecutePhases* out) const {
  if (!last_ok_) return false;
  *out = last_;
  return true;
}

}  // namespace optic::iree_backend
