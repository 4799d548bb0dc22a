#include "xla_model.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstring>
#include <tuple>

#include "python_runtime.h"

namespace optic::xla {
namespace {

namespace py = pybind11;
using Clock = std::chrono::steady_clock;

Status ToInfo(const py::handle& item, TensorInfo* info) {
  using Info = std::tuple<std::string, std::string, std::vector<int64_t>>;
  auto [name, dtype, dims] = item.cast<Info>();
  info->name = name;
  info->shape = dims;
  return ParseDType(dtype, &info->dtype).Prefixed("xla: tensor '" + name + "'");
}

}  // namespace

Status XlaModel::Create(py::object program, std::unique_ptr<Model>* out) {
  std::unique_ptr<XlaModel> model(new XlaModel(std::move(program)));
  OPTIC_RETURN_IF_ERROR(model->Describe());
  *out = std::move(model);
  return Status::OK();
}

Status XlaModel::Describe() {
  for (auto item : program_.attr("inputs")) {
    TensorInfo info;
    OPTIC_RETURN_IF_ERROR(ToInfo(item, &info));
    if (info.dtype != DType::kFP32) {
      return Status::Unsupported("xla: input '" + info.name + "' is " + DTypeName(info.dtype) +
                                 "; optic's xla bridge passes fp32 inputs only");
    }
    inputs_.push_back(std::move(info));
  }
  for (auto item : program_.attr("outputs")) {
    TensorInfo info;
    OPTIC_RETURN_IF_ERROR(ToInfo(item, &info));
    info.dtype = DType::kFP32;  // Program casts every output to fp32 on the device
    outputs_.push_back(std::move(info));
  }
  run_ = program_.attr("run");
  return Status::OK();
}

XlaModel::~XlaModel() {
  py::gil_scoped_acquire gil;
  run_ = py::object();
  program_ = py::object();
}

Status XlaModel::Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) {
  last_ok_ = false;
  OPTIC_RETURN_IF_ERROR(CheckInputs(inputs_, inputs).Prefixed("xla"));
  for (const Tensor& t : inputs) {
    if (!t.is_host()) return Status::InvalidArgument("xla: inputs must be host tensors");
  }
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
        // A base object makes numpy borrow the memory instead of copying it; the array lives only
        // for this call (Program.run blocks until the outputs are ready).
        std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
        std::vector<py::ssize_t> strides(shape.size(), sizeof(float));
        for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
        py::array a(py::dtype::of<float>(), shape, strides, t.raw(), py::none());
        a.attr("setflags")(py::arg("write") = false);
        args[i] = std::move(a);
      }
      py::tuple ret = run_(*args);
      python_s = ret[1].cast<double>();
      auto ph = ret[2].cast<std::tuple<double, double, double>>();
      phases.h2d_ms = std::get<0>(ph) * 1e3;
      phases.compute_ms = std::get<1>(ph) * 1e3;
      phases.d2h_ms = std::get<2>(ph) * 1e3;
      for (auto item : ret[0]) {
        auto arr = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(item);
        if (!arr) return Status::Internal("xla: an output is not a float array");
        Shape shape(arr.shape(), arr.shape() + arr.ndim());
        Tensor t;
        OPTIC_RETURN_IF_ERROR(Tensor::Empty(DType::kFP32, shape, &t));
        std::memcpy(t.raw(), arr.data(), t.nbytes());
        result.push_back(std::move(t));
      }
    } catch (const py::error_already_set& e) {
      return Status::Internal("xla: run failed: " + PythonError(e));
    } catch (const std::exception& e) {
      return Status::Internal(std::string("xla: run failed: ") + e.what());
    }
  }
  if (result.size() != outputs_.size()) {
    return Status::Internal("xla: the program returned " + std::to_string(result.size()) +
                            " outputs, the graph declares " + std::to_string(outputs_.size()));
  }
  *outputs = std::move(result);
  const double total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  phases.bridge_ms = total_ms - python_s * 1e3;
  last_ = phases;
  last_ok_ = true;
  return Status::OK();
}

bool XlaModel::LastPhases(ExecutePhases* out) const {
  if (!last_ok_) return false;
  *out = last_;
  return true;
}

}  // namespace optic::xla
