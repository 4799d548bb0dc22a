// The seam between Python objects and optic's types: Status -> optic.Error exceptions, arrays
// (buffer protocol, DLPack) -> borrowed Tensors, Tensors -> NumPy arrays sharing their memory.
// Threading: every function here needs the GIL.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <string>

#include "optic/status.h"
#include "optic/tensor.h"

namespace optic::python {

namespace nb = nanobind;

// Creates optic.Error and one subclass per StatusCode in `m` (called once, at import).
void RegisterErrors(nb::module_& m);
// Raises the optic.Error subclass of status.code() with status.message(). status must not be OK.
[[noreturn]] void Raise(const Status& status);
inline void ThrowIfError(const Status& status) {
  if (!status.ok()) Raise(status);
}

// "float32", "float16", "bfloat16", "int8", "uint8", "int32", "int64": NumPy's names.
const char* NumpyDTypeName(DType dtype);

// A view of `array` as a Tensor on its own memory (no copy). The array must be C-contiguous (the
// caller copies a strided one first), on the CPU or a CUDA device. `what` names the input in
// errors ("input 'x'").
Status ArrayToTensor(const nb::ndarray<>& array, const std::string& what, Tensor* out);
// Imports NumPy's C API (once, at import of the module).
void InitNumpy();
// The fast path for a NumPy array that needs no copy (C-contiguous, aligned, native byte order,
// a dtype optic runs): a Tensor over its memory and true; false for anything else, which then
// takes ArrayToTensor's general path (DLPack / buffer protocol) and its errors.
bool NumpyArrayToTensor(nb::handle object, Tensor* out);
// A NumPy array over the tensor's host memory, keeping the tensor's holder alive (no copy);
// bf16 outputs are widened to fp32, as NumPy has no bfloat16.
nb::object TensorToNumpy(const Tensor& tensor);

}  // namespace optic::python
