// The xla backend's side of the process's embedded CPython (src/backends/python/embedded_python.h:
// one interpreter per process, shared with the iree backend, never finalized).
//
// Threading: StartPython may be called from any thread, also concurrently. After it returns, no
// thread holds the GIL; every call into Python takes it with pybind11::gil_scoped_acquire for the
// duration of that call only, so optic's other threads run free between calls.
// Failure: a Python that cannot start or a module that cannot import gives a Status naming
// the interpreter, the module folder and Python's own error text; the same Status is returned to
// every later caller (the process does not retry).
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "optic/status.h"

namespace optic::xla {

// Starts Python as if from OPTIC_XLA_PYTHON (so its venv's site-packages are on sys.path), puts
// the folder of optic_xla.py first on sys.path and imports it. On success `*module` is the
// imported module (owned by the runtime, valid until exit; use it with the GIL held).
Status StartPython(pybind11::module_** module);

// Where optic_xla.py is looked for: $OPTIC_XLA_MODULE_DIR, else the folder of the running
// executable if it holds optic_xla.py, else the source folder compiled in.
std::string ModuleDir();

// "<ExceptionType>: <message>" of a Python error (call with the GIL held).
std::string PythonError(const pybind11::error_already_set& e);

}  // namespace optic::xla
