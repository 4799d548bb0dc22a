// Devices: where a model runs. One parser for the device strings every command and config takes
// (cpu, cuda, gpu, cuda:K and lists of them), and the check of a CUDA index against the GPUs this
// process can see.
//
// Numbering: cuda:K is the K-th GPU the CUDA driver shows this process, counted from 0 after
// CUDA_VISIBLE_DEVICES has remapped them (CUDA_VISIBLE_DEVICES=2,3 makes physical GPU 3 cuda:1),
// which is what every framework optic runs passes to its own runtime.
// Threading: every function may be called from any thread; the visible-GPU query runs once per
// process (the CUDA driver is loaded with dlopen, so optic needs no CUDA at build time).
#pragma once

#include <string>
#include <vector>

#include "optic/status.h"

namespace optic {

enum class DeviceType { kCPU, kCUDA };
struct Device {
  DeviceType type = DeviceType::kCPU;
  int index = 0;
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool is_cpu() const { return type == DeviceType::kCPU; }
};
// "cpu", "cuda", "cuda:1".
std::string DeviceName(const Device& device);
// "cpu", "cuda" / "gpu" (cuda:0), "cuda:K" (K up to 9999), case-insensitive. kInvalidArgument
// names the text and the accepted forms.
Status ParseDevice(const std::string& text, Device* out);
// A comma-separated list ("cuda:0,cuda:1"), each entry as ParseDevice takes it; an empty entry or
// a device listed twice is an error naming it.
Status ParseDeviceList(const std::string& text, std::vector<Device>* out);
// "cuda:0+cuda:1": DeviceName of each, joined with '+' (the devices of one data-parallel run).
std::string DeviceListName(const std::vector<Device>& devices);

// The GPUs this process sees through the CUDA driver.
struct VisibleGpus {
  int count = 0;
  std::vector<std::string> uuids;  // "GPU-8e1f...", per index; empty where the driver gave none
  std::vector<std::string> names;  // "NVIDIA H100 80GB HBM3", per index
  std::string reason;              // why count is 0: no driver library, no device, driver error
};
const VisibleGpus& VisibleCudaDevices();
// "CUDA_VISIBLE_DEVICES=2,3" or "CUDA_VISIBLE_DEVICES unset".
std::string CudaVisibleDevicesNote();

// OK for the CPU and for cuda:K with K < visible.count. Otherwise kUnsupportedHardware naming
// the device, how many GPUs are visible (or why none is) and CUDA_VISIBLE_DEVICES, e.g.
// "cuda:7: no such GPU: 1 GPU is visible to this process (cuda:0; CUDA_VISIBLE_DEVICES unset)".
Status CheckDeviceVisible(const Device& device, const VisibleGpus& visible);
Status CheckDeviceVisible(const Device& device);  // against VisibleCudaDevices()

}  // namespace optic
