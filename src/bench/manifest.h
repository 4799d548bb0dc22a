// The run's conditions (host/manifest.h) under the names the sweep uses.
#pragma once

#include "host/manifest.h"

namespace optic::bench {

using host::HostManifest;
using host::NewRunId;
using host::UtcTimestamp;
using host::Versions;

}  // namespace optic::bench
