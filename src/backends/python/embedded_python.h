// The one CPython a process embeds, shared by the backends that run through Python (xla, iree):
// CPython allows one interpreter per process, so each backend asks this file instead of starting
// its own. Started on first use, never finalized (JAX's and IREE's runtime threads outlive
// main(); finalizing under them crashes; the OS reclaims everything at exit).
//
// Threading: every function may be called from any thread, also concurrently. After Start
// returns, no thread holds the GIL; callers take it with pybind11::gil_scoped_acquire for the
// duration of one call only, so optic's other threads run free between calls.
// Failure: a Python that cannot start gives a Status naming the interpreter and CPython's reason,
// returned to every later caller (the process does not retry); a second backend asking for
// another interpreter than the one running gets a Status naming both.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "optic/status.h"

namespace optic::python {

// Starts Python as if from `executable` (so its venv's site-packages are on sys.path), once per
// process. `backend` names the caller in errors.
Status Start(const std::string& executable, const std::string& backend);

// Starts Python (as Start) and imports `module` with `dir` first on sys.path. On success `*out`
// is the module, owned by the runtime and valid until exit; use it with the GIL held. Each module
// is imported once; later calls return the same object (or the same error).
Status Import(const std::string& executable, const std::string& backend, const std::string& module,
              const std::string& dir, pybind11::module_** out);

// "<ExceptionType>: <message>" of a Python error (call with the GIL held).
std::string ErrorText(const pybind11::error_already_set& e);

}  // namespace optic::python
