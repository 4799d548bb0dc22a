#include "convert.h"

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL optic_numpy_api
#include <numpy/arrayobject.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace optic::python {
namespace {

struct ErrorClass {
  StatusCode code;
  const char* name;
  PyObject* extra_base;  // a builtin the class also derives from (except clauses users know)
  const char* doc;
  PyObject* type = nullptr;
};

ErrorClass g_errors[] = {
    {StatusCode::kInvalidArgument, "InvalidArgumentError", PyExc_ValueError,
     "A bad option, shape, dtype, input name or file contents."},
    {StatusCode::kNotFound, "NotFoundError", PyExc_LookupError,
     "A missing file, model or backend."},
    {StatusCode::kUnavailable, "UnavailableError", nullptr, "Busy, shutting down or timed out."},
    {StatusCode::kUnsupported, "UnsupportedError", PyExc_NotImplementedError,
     "The backend cannot do this (precision, operator, format)."},
    {StatusCode::kUnsupportedHardware, "UnsupportedHardwareError", PyExc_NotImplementedError,
     "The machine lacks what is needed (no GPU, no AVX-512 BF16)."},
    {StatusCode::kOutOfMemory, "OutOfMemoryError", PyExc_MemoryError,
     "A host or device allocation failed."},
    {StatusCode::kCancelled, "CancelledError", nullptr, "The caller asked to stop."},
    {StatusCode::kInternal, "InternalError", nullptr, "A framework failed or an invariant broke."},
};
PyObject* g_base = nullptr;

}  // namespace

void RegisterErrors(nb::module_& m) {
  g_base = PyErr_NewExceptionWithDoc(
      "optic.Error", "Base of optic's errors; .code is the Status code name (e.g. 'NOT_FOUND').",
      PyExc_RuntimeError, nullptr);
  if (g_base == nullptr) throw nb::python_error();
  m.attr("Error") = nb::handle(g_base);
  for (ErrorClass& e : g_errors) {
    nb::object bases = e.extra_base ? nb::make_tuple(nb::handle(g_base), nb::handle(e.extra_base))
                                    : nb::make_tuple(nb::handle(g_base));
    const std::string qualified = std::string("optic.") + e.name;
    e.type = PyErr_NewExceptionWithDoc(qualified.c_str(), e.doc, bases.ptr(), nullptr);
    if (e.type == nullptr) throw nb::python_error();
    nb::handle(e.type).attr("code") = StatusCodeName(e.code);
    m.attr(e.name) = nb::handle(e.type);
  }
}

void Raise(const Status& status) {
  PyObject* type = g_base;
  for (const ErrorClass& e : g_errors) {
    if (e.code == status.code()) type = e.type;
  }
  PyErr_SetString(type, status.message().c_str());
  throw nb::python_error();
}

const char* NumpyDTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFP32: return "float32";
    case DType::kFP16: return "float16";
    case DType::kBF16: return "bfloat16";
    case DType::kINT8: return "int8";
    case DType::kUINT8: return "uint8";
    case DType::kINT32: return "int32";
    case DType::kINT64: return "int64";
  }
  return "?";
}

namespace {

bool FromDlpack(const nb::dlpack::dtype& d, DType* out) {
  using Code = nb::dlpack::dtype_code;
  if (d.lanes != 1) return false;
  const auto code = static_cast<Code>(d.code);
  if (code == Code::Float && d.bits == 32) *out = DType::kFP32;
  else if (code == Code::Float && d.bits == 16) *out = DType::kFP16;
  else if (code == Code::Bfloat && d.bits == 16) *out = DType::kBF16;
  else if (code == Code::Int && d.bits == 8) *out = DType::kINT8;
  else if (code == Code::UInt && d.bits == 8) *out = DType::kUINT8;
  else if (code == Code::Int && d.bits == 32) *out = DType::kINT32;
  else if (code == Code::Int && d.bits == 64) *out = DType::kINT64;
  else return false;
  return true;
}

std::string DlpackName(const nb::dlpack::dtype& d) {
  using Code = nb::dlpack::dtype_code;
  const char* kind = "?";
  switch (static_cast<Code>(d.code)) {
    case Code::Int: kind = "int"; break;
    case Code::UInt: kind = "uint"; break;
    case Code::Float: kind = "float"; break;
    case Code::Bfloat: kind = "bfloat"; break;
    case Code::Complex: kind = "complex"; break;
    case Code::Bool: kind = "bool"; break;
  }
  return kind + std::to_string(d.bits);
}

int NumpyTypeNum(DType dtype) {
  switch (dtype) {
    case DType::kFP32: return NPY_FLOAT32;
    case DType::kFP16: return NPY_FLOAT16;
    case DType::kINT8: return NPY_INT8;
    case DType::kUINT8: return NPY_UINT8;
    case DType::kINT32: return NPY_INT32;
    case DType::kINT64: return NPY_INT64;
    case DType::kBF16: return -1;
  }
  return -1;
}

nb::dlpack::dtype ToDlpack(DType dtype) {
  using Code = nb::dlpack::dtype_code;
  auto make = [](Code c, int bits) {
    return nb::dlpack::dtype{static_cast<uint8_t>(c), static_cast<uint8_t>(bits), 1};
  };
  switch (dtype) {
    case DType::kFP32: return make(Code::Float, 32);
    case DType::kFP16: return make(Code::Float, 16);
    case DType::kBF16: return make(Code::Bfloat, 16);
    case DType::kINT8: return make(Code::Int, 8);
    case DType::kUINT8: return make(Code::UInt, 8);
    case DType::kINT32: return make(Code::Int, 32);
    case DType::kINT64: return make(Code::Int, 64);
  }
  return make(Code::Float, 32);
}

}  // namespace

Status ArrayToTensor(const nb::ndarray<>& array, const std::string& what, Tensor* out) {
  DType dtype;
  if (!FromDlpack(array.dtype(), &dtype)) {
    return Status::InvalidArgument(what + ": dtype " + DlpackName(array.dtype()) +
                                   " is not one optic runs (float32, float16, bfloat16, int8, "
                                   "uint8, int32, int64): convert it, e.g. x.astype(numpy.float32)");
  }
  Device device;
  if (array.device_type() == nb::device::cuda::value) {
    device = Device{DeviceType::kCUDA, static_cast<int>(array.device_id())};
  } else if (array.device_type() != nb::device::cpu::value) {
    return Status::InvalidArgument(what + ": the array lives on a device optic does not read "
                                   "(DLPack device type " +
                                   std::to_string(array.device_type()) + "): move it to the CPU "
                                   "or a CUDA device");
  }
  Shape shape(array.ndim());
  int64_t expected = 1;
  bool contiguous = true;
  for (size_t i = array.ndim(); i-- > 0;) {
    shape[i] = static_cast<int64_t>(array.shape(i));
    if (array.shape(i) != 1 && array.stride(i) != expected) contiguous = false;
    expected *= static_cast<int64_t>(array.shape(i));
  }
  if (!contiguous) {
    return Status::InvalidArgument(what + ": the array is not C-contiguous: pass "
                                   "numpy.ascontiguousarray(x) (or x.contiguous() for torch)");
  }
  *out = Tensor::Borrow(array.data(), dtype, std::move(shape), device);
  return Status::OK();
}

nb::object TensorToNumpy(const Tensor& tensor) {
  Tensor host = tensor;
  if (host.dtype() == DType::kBF16) ThrowIfError(tensor.ConvertTo(DType::kFP32, &host));
  if (!host.is_host()) {
    Raise(Status::Internal("an output of " + host.DebugString() +
                           " is not in host memory, which Model::Execute promises"));
  }
  if (!host.owning()) ThrowIfError(Tensor(host).Clone(&host));
  auto* keep = new Tensor(host);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  // NumPy's own constructor over the memory: a few microseconds less per call than a DLPack
  // round trip, which counts at batch 1.
  npy_intp dims[NPY_MAXDIMS];
  const int nd = static_cast<int>(host.rank());
  for (int i = 0; i < nd && i < NPY_MAXDIMS; ++i) dims[i] = static_cast<npy_intp>(host.dim(i));
  const int typenum = NumpyTypeNum(host.dtype());
  if (nd > NPY_MAXDIMS || typenum < 0) {
    std::vector<size_t> shape(host.shape().begin(), host.shape().end());
    nb::ndarray<nb::numpy> array(keep->raw(), shape.size(), shape.data(), owner, nullptr,
                                 ToDlpack(host.dtype()));
    return array.cast();
  }
  PyObject* array = PyArray_SimpleNewFromData(nd, dims, typenum, keep->raw());
  if (array == nullptr) throw nb::python_error();
  if (PyArray_SetBaseObject(reinterpret_cast<PyArrayObject*>(array), owner.release().ptr()) != 0) {
    Py_DECREF(array);
    throw nb::python_error();
  }
  return nb::steal(array);
}

void InitNumpy() {
  if (_import_array() < 0) throw nb::python_error();
}

bool NumpyArrayToTensor(nb::handle object, Tensor* out) {
  if (!PyArray_Check(object.ptr())) return false;
  auto* a = reinterpret_cast<PyArrayObject*>(object.ptr());
  DType dtype;
  switch (PyArray_TYPE(a)) {
    case NPY_FLOAT32: dtype = DType::kFP32; break;
    case NPY_FLOAT16: dtype = DType::kFP16; break;
    case NPY_INT8: dtype = DType::kINT8; break;
    case NPY_UINT8: dtype = DType::kUINT8; break;
    case NPY_INT32: dtype = DType::kINT32; break;
    case NPY_INT64: dtype = DType::kINT64; break;
    default: return false;  // the general path names the dtype in its error
  }
  if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a) || PyArray_ISBYTESWAPPED(a)) return false;
  const int nd = PyArray_NDIM(a);
  Shape shape(nd);
  for (int i = 0; i < nd; ++i) shape[i] = PyArray_DIM(a, i);
  *out = Tensor::Borrow(PyArray_DATA(a), dtype, std::move(shape));
  return true;
}

}  // namespace optic::python
