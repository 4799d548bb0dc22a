#include "python_runtime.h"

#include <cstdlib>
#include <filesystem>

#include "embedded_python.h"

namespace optic::xla {

namespace fs = std::filesystem;
namespace py = pybind11;

std::string ModuleDir() {
  if (const char* env = std::getenv("OPTIC_XLA_MODULE_DIR"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::is_regular_file(exe.parent_path() / "optic_xla.py", ec)) {
    return exe.parent_path().string();
  }
  return OPTIC_XLA_MODULE_DIR;
}

std::string PythonError(const py::error_already_set& e) { return python::ErrorText(e); }

Status StartPython(py::module_** module) {
  return python::Import(OPTIC_XLA_PYTHON, "xla", "optic_xla", ModuleDir(), module);
}

}  // namespace optic::xla
