// The GPU meter: a GPU's name and driver (the host manifest) and, over a measured window, its
// memory peak, mean power, energy, utilisation, SM clock and temperature. Built over NVML
// (nvml_monitor.cc) when nvml.h is found at build time; otherwise, and on machines without an
// NVIDIA driver, CreateGpuMonitor returns nullptr with the reason and rows carry null.
// Threading: one monitor per measuring thread.
#pragma once

#include <memory>
#include <string>

#include "optic/tensor.h"

namespace optic::host {

struct GpuSample {
  double mem_peak_mb = -1;   // <0: not measured
  double power_w = -1;
  double energy_j = -1;
  double util_pct = -1;        // mean GPU utilization over the window
  double sm_clock_mhz = -1;    // at the end of the window
  double temperature_c = -1;   // at the end of the window
  std::string mem_scope;       // "process" or "device" (the driver hid per-process memory)
};
class GpuMonitor {
 public:
  virtual ~GpuMonitor() = default;
  virtual std::string name() const = 0;            // e.g. "NVIDIA H100 80GB HBM3"
  virtual std::string driver_version() const = 0;
  virtual void Start() = 0;                         // begin sampling the measured window
  virtual GpuSample Stop() = 0;
};
std::unique_ptr<GpuMonitor> CreateGpuMonitor(const Device& device, std::string* reason);

}  // namespace optic::host
