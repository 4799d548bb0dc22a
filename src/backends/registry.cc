// The only file that knows which backends exist. The list comes from CMake
// (optic_backends.inc, one OPTIC_BACKEND(name, factory) line per enabled backend folder).
#include "optic/registry.h"

#include <exception>

namespace optic {

#define OPTIC_BACKEND(name, factory) std::unique_ptr<Backend> factory();
#include "optic_backends.inc"
#undef OPTIC_BACKEND

namespace {
struct Entry {
  const char* name;
  std::unique_ptr<Backend> (*factory)();
};
const Entry kBackends[] = {
#define OPTIC_BACKEND(name, factory) {#name, &factory},
#include "optic_backends.inc"
#undef OPTIC_BACKEND
};
}  // namespace

std::vector<std::string> BackendNames() {
  std::vector<std::string> names;
  for (const Entry& e : kBackends) names.push_back(e.name);
  return names;
}

Status CreateBackend(const std::string& name, std::unique_ptr<Backend>* out) {
  for (const Entry& e : kBackends) {
    if (name == e.name) {
      try {
        *out = e.factory();
      } catch (const std::exception& ex) {
        return Status::Internal(name + ": failed to initialize: " + ex.what());
      }
      return Status::OK();
    }
  }
  std::string known;
  for (const Entry& e : kBackends) known += (known.empty() ? "" : ", ") + std::string(e.name);
  return Status::NotFound("unknown backend '" + name + "' (built: " + known + ")");
}

Status LoadModel(const std::string& backend, const std::string& path, const LoadOptions& options,
                 std::unique_ptr<Model>* out) {
  std::unique_ptr<Backend> b;
  OPTIC_RETURN_IF_ERROR(CreateBackend(backend, &b));
  return b->Load(path, options, out);
}

}  // namespace optic
