// Resource meters of a cell: peak host memory and CPU package energy (RAPL); the GPU's are
// host/gpu_monitor.h's.
// Each meter reports "absent, because ..." rather than a made-up zero when the machine does not
// expose what it needs.
// Threading: a meter is used by one thread (the cell's measuring thread).
#pragma once

#include <string>
#include <vector>


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

}  // namespace optic::bench
