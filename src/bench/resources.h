// Resource meters of a cell: peak host memory, CPU package energy (RAPL) and the GPU hook.
// Each meter reports "absent, because ..." rather than a made-up zero when the machine does not
// expose what it needs.
// Threading: a meter is used by one thread (the cell's measuring thread).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "optic/tensor.h"

namespace optic::bench {

// Peak resident set of this process in MiB (VmHWM from /proc/self/status); <0 if unreadable.
double PeakRssMb();

// CPU package energy from /sys/class/powercap/intel-rapl:N/energy_uj (one per package; AMD
// exposes the same interface). Counters wrap at max_energy_range_uj; Read handles one wrap.
class RaplMeter {
 public:
  // Never fails: when no package counter is readable, available() is false and reason() says why.
  static RaplMeter Open(const std::string& root = "/sys/class/powercap");
  bool available() const { return !domains_.empty(); }
  const std::string& reason() const { return reason_; }
  // Joules since the previous Start/Stop (sum over packages).
  void Start();
  double Stop();

 private:
  struct Domain {
    std::string energy_path;
    double max_uj = 0;
    double last_uj = 0;
  };
  std::vector<Domain> domains_;
  std::string reason_;
};

// GPU resource hook. The CUDA work implements it over NVML (memory peak, mean power, energy
// counter); until then CreateGpuMonitor returns nullptr with a reason and the rows carry null.
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

}  // namespace optic::bench
