// The meter set of a cell's steady state, the same for every kind of cell (plain, e2e,
// ensemble): host load (host_load.h), CPU package energy (RAPL), the GPU monitor (NVML: power,
// energy, memory peak, utilisation, SM clock, temperature) on accelerator devices, and the
// device phases (h2d, compute, d2h, language bridge) of models that time them
// (optic/phase_timing.h). A meter this machine cannot read is named in the row's settings with
// its reason ("rapl", "gpu_monitor") and its fields stay null. Peak host memory is the cell's
// (FinishRow), over all its phases.
// Threading: used by the cell's measuring thread; Record may be called from the thread that ran
// the Execute it reports on, one at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "bench/host_load.h"
#include "bench/resources.h"
#include "host/gpu_monitor.h"
#include "optic/backend.h"
#include "optic/phase_timing.h"
#include "results/row.h"

namespace optic::bench {

class SteadyMeters {
 public:
  // Opens RAPL and, for a non-CPU `device`, the GPU monitor; notes unavailable ones in
  // row->settings.
  SteadyMeters(const Device& device, results::Row* row);
  SteadyMeters(const SteadyMeters&) = delete;
  SteadyMeters& operator=(const SteadyMeters&) = delete;

  // The steady state begins: meters start, and Record/Observe count from now on.
  void Start();
  // The steady state is over (before the row is written, so later work is not metered).
  void Stop();
  // After an Execute of `model`: its device phases when it reports them (steady state only).
  void Observe(const Model* model);
  // A pipelined Collect's phases (steady state only; compute_ms < 0: nothing timed).
  void Record(const ExecutePhases& phases);
  // Writes what was measured for `samples` inferences: host load, cpu_energy_j_per_inference,
  // the GPU fields, device_phases_ms and bridge_overhead_ms.
  void Write(int64_t samples, results::Row* row) const;

 private:
  const bool cpu_device_;
  RaplMeter rapl_;
  std::unique_ptr<host::GpuMonitor> gpu_;
  HostLoadMeter host_load_;
  bool on_ = false;
  double joules_ = 0;
  HostLoad load_;
  host::GpuSample gpu_sample_;
  double h2d_ = 0, compute_ = 0, d2h_ = 0, bridge_ = 0;
  int64_t timed_ = 0, bridged_ = 0;
};

}  // namespace optic::bench
