#include "bench/meters.h"

#include <string>

namespace optic::bench {

SteadyMeters::SteadyMeters(const Device& device, results::Row* row)
    : cpu_device_(device.is_cpu()), rapl_(RaplMeter::Open()) {
  std::string gpu_reason;
  if (!cpu_device_) gpu_ = host::CreateGpuMonitor(device, &gpu_reason);
  if (!rapl_.available()) row->settings["rapl"] = "unavailable: " + rapl_.reason();
  if (!gpu_ && !cpu_device_) row->settings["gpu_monitor"] = "unavailable: " + gpu_reason;
}

void SteadyMeters::Start() {
  host_load_.Start();
  rapl_.Start();
  if (gpu_) gpu_->Start();
  on_ = true;
}

void SteadyMeters::Stop() {
  if (!on_) return;
  on_ = false;
  joules_ = rapl_.Stop();
  if (gpu_) gpu_sample_ = gpu_->Stop();
  load_ = host_load_.Stop();
}

void SteadyMeters::Observe(const Model* model) {
  if (!on_) return;
  const auto* timed = dynamic_cast<const PhaseReporting*>(model);
  ExecutePhases p;
  if (timed && timed->LastPhases(&p)) Record(p);
}

void SteadyMeters::Record(const ExecutePhases& p) {
  if (!on_ || p.compute_ms < 0) return;
  h2d_ += p.h2d_ms;
  compute_ += p.compute_ms;
  d2h_ += p.d2h_ms;
  ++timed_;
  if (p.bridge_ms >= 0) bridge_ += p.bridge_ms, ++bridged_;
}

void SteadyMeters::Write(int64_t samples, results::Row* row) const {
  WriteHostLoad(load_, row);
  if (rapl_.available() && samples > 0) row->cpu_energy_j_per_inference = joules_ / samples;
  const host::GpuSample& g = gpu_sample_;
  if (g.mem_peak_mb >= 0) row->gpu_mem_peak_mb = g.mem_peak_mb;
  if (g.power_w >= 0) row->power_w = g.power_w;
  if (g.energy_j >= 0 && samples > 0) row->energy_j_per_inference = g.energy_j / samples;
  if (g.util_pct >= 0) row->gpu_util_pct = g.util_pct;
  if (g.sm_clock_mhz >= 0) row->gpu_sm_clock_mhz = g.sm_clock_mhz;
  if (g.temperature_c >= 0) row->gpu_temperature_c = g.temperature_c;
  if (!g.mem_scope.empty()) row->settings["gpu_mem_scope"] = g.mem_scope;
  if (timed_ > 0) {
    row->device_phases_ms = {{"h2d", h2d_ / timed_}, {"compute", compute_ / timed_}, {"d2h", d2h_ / timed_}};
  }
  // A language bridge's per-call cost (the xla backend's embedded Python), steady-state mean.
  if (bridged_ > 0) row->bridge_overhead_ms = bridge_ / bridged_;
}

}  // namespace optic::bench
