// The one place that knows which backends are compiled in. Everything else (CLI, bench, server)
// asks here by name and then asks the backend for its capabilities.
// Thread safety: all functions may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "optic/backend.h"

namespace optic {

// Names of the compiled-in backends, in registry order (the first real one is the reference).
std::vector<std::string> BackendNames();

// Creates a backend by name; kNotFound lists the available names.
Status CreateBackend(const std::string& name, std::unique_ptr<Backend>* out);

// The seeds' load(path, params): CreateBackend + Load in one call.
Status LoadModel(const std::string& backend, const std::string& path, const LoadOptions& options,
                 std::unique_ptr<Model>* out);

}  // namespace optic
