#include "gpu_metrics.h"

#include <dlfcn.h>

#include <cstdio>
#include <mutex>
#include <vector>

#include "optic/device.h"

namespace optic::server {
namespace {

// nvml.h's types and entry points (NVML_SUCCESS is 0; a device handle is an opaque pointer).
using Handle = void*;
struct Utilization {
  unsigned gpu, memory;
};
struct Memory {
  unsigned long long total, free, used;
};

struct Nvml {
  int (*by_uuid)(const char*, Handle*) = nullptr;
  int (*utilization)(Handle, Utilization*) = nullptr;
  int (*memory)(Handle, Memory*) = nullptr;
  int (*power)(Handle, unsigned*) = nullptr;
  int (*limit)(Handle, unsigned*) = nullptr;
  int (*energy)(Handle, unsigned long long*) = nullptr;
  struct Gpu {
    std::string uuid;
    Handle handle = nullptr;
    unsigned long long energy_start_mj = 0;
    bool energy = false;
  };
  std::vector<Gpu> gpus;
};

template <typename F>
void Sym(void* lib, const char* name, F* f) {
  *f = reinterpret_cast<F>(dlsym(lib, name));
}

const Nvml* Open() {
  static std::once_flag once;
  static Nvml nvml;
  static bool ok = false;
  std::call_once(once, [] {
    const VisibleGpus& visible = VisibleCudaDevices();
    if (visible.count == 0) return;
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return;
    int (*init)() = nullptr;
    Sym(lib, "nvmlInit_v2", &init);
    Sym(lib, "nvmlDeviceGetHandleByUUID", &nvml.by_uuid);
    Sym(lib, "nvmlDeviceGetUtilizationRates", &nvml.utilization);
    Sym(lib, "nvmlDeviceGetMemoryInfo", &nvml.memory);
    Sym(lib, "nvmlDeviceGetPowerUsage", &nvml.power);
    Sym(lib, "nvmlDeviceGetEnforcedPowerLimit", &nvml.limit);
    Sym(lib, "nvmlDeviceGetTotalEnergyConsumption", &nvml.energy);
    if (!init || !nvml.by_uuid || init() != 0) return;
    for (const std::string& uuid : visible.uuids) {
      Nvml::Gpu g;
      g.uuid = uuid;
      if (uuid.empty() || nvml.by_uuid(uuid.c_str(), &g.handle) != 0) continue;
      g.energy = nvml.energy && nvml.energy(g.handle, &g.energy_start_mj) == 0;
      nvml.gpus.push_back(g);
    }
    ok = !nvml.gpus.empty();
  });
  return ok ? &nvml : nullptr;
}

std::string Number(double v) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.6g", v);
  return b;
}

}  // namespace

void StartGpuMetrics() { Open(); }

void AppendGpuMetrics(std::map<std::string, std::string>* families) {
  const Nvml* nvml = Open();
  if (!nvml) return;
  for (const Nvml::Gpu& g : nvml->gpus) {
    const std::string labels = "{gpu_uuid=\"" + g.uuid + "\"} ";
    auto add = [&](const char* family, double value) {
      (*families)[family] += family + labels + Number(value) + "\n";
    };
    Utilization u{};
    if (nvml->utilization && nvml->utilization(g.handle, &u) == 0) {
      add("nv_gpu_utilization", u.gpu / 100.0);
    }
    Memory m{};
    if (nvml->memory && nvml->memory(g.handle, &m) == 0) {
      add("nv_gpu_memory_total_bytes", static_cast<double>(m.total));
      add("nv_gpu_memory_used_bytes", static_cast<double>(m.used));
    }
    unsigned mw = 0;
    if (nvml->power && nvml->power(g.handle, &mw) == 0) add("nv_gpu_power_usage", mw / 1000.0);
    if (nvml->limit && nvml->limit(g.handle, &mw) == 0) add("nv_gpu_power_limit", mw / 1000.0);
    unsigned long long mj = 0;
    if (g.energy && nvml->energy(g.handle, &mj) == 0) {
      add("nv_energy_consumption", (mj - g.energy_start_mj) / 1000.0);
    }
  }
}

}  // namespace optic::server
