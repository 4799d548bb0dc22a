#include "python_runtime.h"

#include <Python.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace optic::xla {
namespace {

namespace fs = std::filesystem;
namespace py = pybind11;

struct Runtime {
  Status status;
  py::module_* module = nullptr;  // leaked on purpose: Python is never finalized
};

Status Initialize() {
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  // The host program owns SIGINT (optic bench stops cleanly on Ctrl-C); Python must not take it.
  config.install_signal_handlers = 0;
  // Starting "from" the configured executable makes Python find its pyvenv.cfg, hence the venv's
  // site-packages where jax lives, exactly as that python would.
  PyStatus st = PyConfig_SetBytesString(&config, &config.executable, OPTIC_XLA_PYTHON);
  if (!PyStatus_Exception(st)) {
    st = PyConfig_SetBytesString(&config, &config.program_name, OPTIC_XLA_PYTHON);
  }
  if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(st)) {
    return Status::Unavailable(std::string("xla: cannot start the embedded Python (") +
                               OPTIC_XLA_PYTHON + "): " + (st.err_msg ? st.err_msg : "unknown"));
  }
  return Status::OK();
}

Runtime& Get() {
  static Runtime* runtime = [] {
    auto* r = new Runtime;
    r->status = Initialize();
    if (!r->status.ok()) return r;
    {
      py::gil_scoped_acquire gil;  // Py_Initialize left the GIL with this thread: a no-op
      const std::string dir = ModuleDir();
      try {
        py::module_::import("sys").attr("path").attr("insert")(0, dir);
        r->module = new py::module_(py::module_::import("optic_xla"));
      } catch (const py::error_already_set& e) {
        r->status = Status::Unavailable("xla: cannot import optic_xla from '" + dir + "' with " +
                                        OPTIC_XLA_PYTHON + ": " + PythonError(e));
      }
    }
    // Hand the GIL back: from here on a thread holds it only inside a call (see the header).
    PyEval_SaveThread();
    return r;
  }();
  return *runtime;
}

}  // namespace

std::string ModuleDir() {
  if (const char* env = std::getenv("OPTIC_XLA_MODULE_DIR"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::is_regular_file(exe.parent_path() / "optic_xla.py", ec)) {
    return exe.parent_path().string();
  }
  return OPTIC_XLA_MODULE_DIR;
}

std::string PythonError(const py::error_already_set& e) {
  std::string type = "Error";
  try {
    type = py::str(e.type().attr("__name__"));
  } catch (...) {
  }
  return type + ": " + py::str(e.value()).cast<std::string>();
}

Status StartPython(py::module_** module) {
  Runtime& r = Get();
  if (r.status.ok()) *module = r.module;
  return r.status;
}

}  // namespace optic::xla
