// What every result row records about its conditions: the host (CPU, cores, memory, OS, GPU)
// and the version of every framework compiled in (each backend's version()). optic bench, optic
// load and optic pipeline put them in their rows; `optic manifest` prints them.
// Thread safety: functions only read the system; call from any thread.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace optic::host {

// {"cpu","cores","memory_gb","gpu","os","kernel","hostname"}; unknown values are null.
nlohmann::json HostManifest();

// {"optic": "0.1.0", "<backend>": "<version>", ..., "gpu_driver": null|"..."}; every compiled-in
// backend is asked, synthetic ones included.
nlohmann::json Versions();

// "2026-11-21T23:40:00Z".
std::string UtcTimestamp();
// "<timestamp>-<8 hex>": unique per sweep.
std::string NewRunId();

}  // namespace optic::host
