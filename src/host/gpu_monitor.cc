#include "host/gpu_monitor.h"

namespace optic::host {

#ifndef OPTIC_HOST_HAVE_NVML  // else nvml_monitor.cc defines it
std::unique_ptr<GpuMonitor> CreateGpuMonitor(const Device& device, std::string* reason) {
  *reason = device.is_cpu() ? "cpu device" : "no GPU monitor compiled in (nvml.h was not found at build time)";
  return nullptr;
}
#endif

}  // namespace optic::host
