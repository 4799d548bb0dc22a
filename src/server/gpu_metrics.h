// Triton's GPU metric families for /metrics, one sample per GPU this process sees (CUDA's
// numbering after CUDA_VISIBLE_DEVICES), labelled gpu_uuid as Triton labels them:
// nv_gpu_utilization (0-1), nv_gpu_memory_total_bytes, nv_gpu_memory_used_bytes,
// nv_gpu_power_usage (W), nv_gpu_power_limit (W), nv_energy_consumption (J since the first
// scrape's baseline, taken when the server starts). Read through NVML (libnvidia-ml.so.1, loaded
// with dlopen); without NVML or a GPU nothing is appended.
// Thread safety: any thread; NVML is opened once.
#pragma once

#include <map>
#include <string>

namespace optic::server {

// Opens NVML and takes the energy baseline; later calls do nothing. Call at server start.
void StartGpuMetrics();
// Appends the samples to `families` (family name -> sample lines, as ModelStats writes them).
void AppendGpuMetrics(std::map<std::string, std::string>* families);

}  // namespace optic::server
