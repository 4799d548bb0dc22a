#include "embedded_python.h"

#include <Python.h>

#include <map>
#include <mutex>

namespace optic::python {
namespace {

namespace py = pybind11;

struct Runtime {
  std::mutex mu;
  bool started = false;
  std::string executable;  // the interpreter Python was started from
  Status status;
  // Imported modules by name, with the Status of the import; leaked on purpose like Python.
  std::map<std::string, std::pair<Status, py::module_*>> modules;
};

Runtime& Get() {
  static Runtime* runtime = new Runtime;
  return *runtime;
}

Status Initialize(const std::string& executable, const std::string& backend) {
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  // The host program owns SIGINT (optic bench stops cleanly on Ctrl-C); Python must not take it.
  config.install_signal_handlers = 0;
  // Starting "from" the configured executable makes Python find its pyvenv.cfg, hence the venv's
  // site-packages, exactly as that python would.
  PyStatus st = PyConfig_SetBytesString(&config, &config.executable, executable.c_str());
  if (!PyStatus_Exception(st)) {
    st = PyConfig_SetBytesString(&config, &config.program_name, executable.c_str());
  }
  if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(st)) {
    return Status::Unavailable(backend + ": cannot start the embedded Python (" + executable +
                               "): " + (st.err_msg ? st.err_msg : "unknown"));
  }
  // Py_InitializeFromConfig left the GIL with this thread; from here on a thread holds it only
  // inside a call (see the header).
  PyEval_SaveThread();
  return Status::OK();
}

Status StartLocked(Runtime& r, const std::string& executable, const std::string& backend) {
  if (!r.started) {
    r.started = true;
    r.executable = executable;
    r.status = Initialize(executable, backend);
    return r.status;
  }
  if (!r.status.ok()) return r.status;
  if (r.executable != executable) {
    return Status::Unavailable(backend + ": the process already runs the embedded Python " +
                               r.executable + " for another backend; " + backend + " was built "
                               "for " + executable + " (one interpreter per process: configure "
                               "both backends with the same Python)");
  }
  return Status::OK();
}

}  // namespace

Status Start(const std::string& executable, const std::string& backend) {
  Runtime& r = Get();
  std::lock_guard<std::mutex> lock(r.mu);
  return StartLocked(r, executable, backend);
}

Status Import(const std::string& executable, const std::string& backend, const std::string& module,
              const std::string& dir, py::module_** out) {
  Runtime& r = Get();
  std::lock_guard<std::mutex> lock(r.mu);
  OPTIC_RETURN_IF_ERROR(StartLocked(r, executable, backend));
  auto it = r.modules.find(module);
  if (it == r.modules.end()) {
    std::pair<Status, py::module_*> entry{Status::OK(), nullptr};
    py::gil_scoped_acquire gil;
    try {
      py::module_::import("sys").attr("path").attr("insert")(0, dir);
      entry.second = new py::module_(py::module_::import(module.c_str()));
    } catch (const py::error_already_set& e) {
      entry.first = Status::Unavailable(backend + ": cannot import " + module + " from '" + dir +
                                        "' with " + executable + ": " + ErrorText(e));
    }
    it = r.modules.emplace(module, entry).first;
  }
  if (it->second.first.ok()) *out = it->second.second;
  return it->second.first;
}

std::string ErrorText(const py::error_already_set& e) {
  std::string type = "Error";
  try {
    type = py::str(e.type().attr("__name__"));
  } catch (...) {
  }
  return type + ": " + py::str(e.value()).cast<std::string>();
}

}  // namespace optic::python
