// GpuMonitor over NVML (gpu_monitor.h), built when nvml.h is found (CMakeLists.txt). The
// library is opened with dlopen("libnvidia-ml.so.1") at run time, never linked, so the optic
// binary still starts on machines without an NVIDIA driver: CreateGpuMonitor then returns nullptr
// with the reason. nvml.h is used only for the types and to check the function signatures.
//
// What a window (Start..Stop) measures, all read-only (clocks and power limits are never touched):
//   power_w        mean of nvmlDeviceGetPowerUsage sampled every 50 ms (20 Hz) by a thread
//   energy_j       difference of the total-energy counter (mJ since driver load) when the GPU
//                  has one (Volta and newer), else mean power x window length
//   mem_peak_mb    largest memory this process holds on the GPU among the samples (per-process
//                  accounting), or the whole device's used memory where the driver hides
//                  processes (then mem_scope says "device")
//   util_pct       mean GPU utilization (percent of time a kernel ran) over the samples
//   sm_clock_mhz / temperature_c   at the end of the window
// Threading: one monitor per measuring thread; the sampler thread is private to the monitor.
#include <dlfcn.h>
#include <nvml.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "host/gpu_monitor.h"

namespace optic::host {
namespace {

// Function pointers with the exact nvml.h signatures (decltype keeps them honest).
struct Nvml {
  void* lib = nullptr;
  decltype(&nvmlInit_v2) init = nullptr;
  decltype(&nvmlDeviceGetHandleByIndex_v2) handle_by_index = nullptr;
  decltype(&nvmlDeviceGetName) name = nullptr;
  decltype(&nvmlSystemGetDriverVersion) driver = nullptr;
  decltype(&nvmlDeviceGetPowerUsage) power = nullptr;
  decltype(&nvmlDeviceGetTotalEnergyConsumption) energy = nullptr;
  decltype(&nvmlDeviceGetMemoryInfo) memory = nullptr;
  decltype(&nvmlDeviceGetComputeRunningProcesses_v3) processes = nullptr;
  decltype(&nvmlDeviceGetUtilizationRates) utilization = nullptr;
  decltype(&nvmlDeviceGetClockInfo) clock = nullptr;
  decltype(&nvmlDeviceGetTemperature) temperature = nullptr;
  decltype(&nvmlErrorString) error = nullptr;
};

template <typename F>
bool Sym(void* lib, const char* name, F* f) {
  *f = reinterpret_cast<F>(dlsym(lib, name));
  return *f != nullptr;
}

// Opened once per process; NVML itself is thread-safe.
const Nvml* OpenNvml(std::string* reason) {
  static std::once_flag once;
  static Nvml nvml;
  static std::string failure;
  std::call_once(once, [] {
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      failure = "libnvidia-ml.so.1 not loadable (no NVIDIA driver?): " + std::string(dlerror());
      return;
    }
    Nvml n;
    n.lib = lib;
    const bool ok = Sym(lib, "nvmlInit_v2", &n.init) &&
                    Sym(lib, "nvmlDeviceGetHandleByIndex_v2", &n.handle_by_index) &&
                    Sym(lib, "nvmlDeviceGetName", &n.name) &&
                    Sym(lib, "nvmlSystemGetDriverVersion", &n.driver) &&
                    Sym(lib, "nvmlDeviceGetPowerUsage", &n.power) &&
                    Sym(lib, "nvmlDeviceGetMemoryInfo", &n.memory) &&
                    Sym(lib, "nvmlDeviceGetUtilizationRates", &n.utilization) &&
                    Sym(lib, "nvmlDeviceGetClockInfo", &n.clock) &&
                    Sym(lib, "nvmlDeviceGetTemperature", &n.temperature) &&
                    Sym(lib, "nvmlErrorString", &n.error);
    if (!ok) {
      failure = "libnvidia-ml.so.1 lacks a required NVML function (driver too old?)";
      return;
    }
    // Optional ones: older GPUs/drivers.
    Sym(lib, "nvmlDeviceGetTotalEnergyConsumption", &n.energy);
    Sym(lib, "nvmlDeviceGetComputeRunningProcesses_v3", &n.processes);
    const nvmlReturn_t rc = n.init();
    if (rc != NVML_SUCCESS) {
      failure = std::string("nvmlInit failed: ") + n.error(rc);
      return;
    }
    nvml = n;
  });
  if (!nvml.lib) *reason = failure;
  return nvml.lib ? &nvml : nullptr;
}

class NvmlMonitor final : public GpuMonitor {
 public:
  NvmlMonitor(const Nvml* nvml, nvmlDevice_t dev) : n_(nvml), dev_(dev) {}
  ~NvmlMonitor() override { StopThread(); }

  std::string name() const override {
    char buf[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = {};
    return n_->name(dev_, buf, sizeof(buf)) == NVML_SUCCESS ? buf : "";
  }
  std::string driver_version() const override {
    char buf[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE] = {};
    return n_->driver(buf, sizeof(buf)) == NVML_SUCCESS ? buf : "";
  }

  void Start() override {
    StopThread();
    power_sum_ = util_sum_ = 0;
    power_n_ = util_n_ = 0;
    mem_peak_mb_ = -1;
    energy_start_ = -1;
    unsigned long long mj = 0;
    if (n_->energy && n_->energy(dev_, &mj) == NVML_SUCCESS) energy_start_ = static_cast<double>(mj);
    t0_ = std::chrono::steady_clock::now();
    running_ = true;
    sampler_ = std::thread([this] {
      while (running_) {
        Sample();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }

  GpuSample Stop() override {
    StopThread();
    Sample();  // at least one sample, also for windows shorter than the period
    GpuSample g;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    if (power_n_ > 0) g.power_w = power_sum_ / power_n_;
    unsigned long long mj = 0;
    if (energy_start_ >= 0 && n_->energy(dev_, &mj) == NVML_SUCCESS) {
      g.energy_j = (static_cast<double>(mj) - energy_start_) / 1000.0;
    } else if (g.power_w >= 0) {
      g.energy_j = g.power_w * secs;
    }
    g.mem_peak_mb = mem_peak_mb_;
    g.mem_scope = mem_scope_;
    if (util_n_ > 0) g.util_pct = util_sum_ / util_n_;
    unsigned int v = 0;
    if (n_->clock(dev_, NVML_CLOCK_SM, &v) == NVML_SUCCESS) g.sm_clock_mhz = v;
    if (n_->temperature(dev_, NVML_TEMPERATURE_GPU, &v) == NVML_SUCCESS) g.temperature_c = v;
    return g;
  }

 private:
  void StopThread() {
    running_ = false;
    if (sampler_.joinable()) sampler_.join();
  }

  void Sample() {
    unsigned int mw = 0;
    if (n_->power(dev_, &mw) == NVML_SUCCESS) {
      power_sum_ += mw / 1000.0;
      ++power_n_;
    }
    nvmlUtilization_t u{};
    if (n_->utilization(dev_, &u) == NVML_SUCCESS) {
      util_sum_ += u.gpu;
      ++util_n_;
    }
    double mb = ProcessMemoryMb();
    if (mb < 0) {
      nvmlMemory_t m{};
      if (n_->memory(dev_, &m) == NVML_SUCCESS) {
        mb = static_cast<double>(m.used) / (1 << 20);
        mem_scope_ = "device";
      }
    } else {
      mem_scope_ = "process";
    }
    if (mb > mem_peak_mb_) mem_peak_mb_ = mb;
  }

  // This process's memory on the GPU, or -1 when the driver does not list it.
  double ProcessMemoryMb() const {
    if (!n_->processes) return -1;
    nvmlProcessInfo_t infos[64];
    unsigned int count = 64;
    if (n_->processes(dev_, &count, infos) != NVML_SUCCESS) return -1;
    const unsigned int pid = static_cast<unsigned int>(getpid());
    for (unsigned int i = 0; i < count; ++i) {
      if (infos[i].pid == pid && infos[i].usedGpuMemory != static_cast<unsigned long long>(NVML_VALUE_NOT_AVAILABLE)) {
        return static_cast<double>(infos[i].usedGpuMemory) / (1 << 20);
      }
    }
    return -1;
  }

  const Nvml* n_;
  nvmlDevice_t dev_;
  std::thread sampler_;
  std::atomic<bool> running_{false};
  // Written by the sampler thread while it runs, read by Stop after the join.
  double power_sum_ = 0, util_sum_ = 0, mem_peak_mb_ = -1, energy_start_ = -1;
  int power_n_ = 0, util_n_ = 0;
  std::string mem_scope_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace

std::unique_ptr<GpuMonitor> CreateGpuMonitor(const Device& device, std::string* reason) {
  if (device.is_cpu()) {
    *reason = "cpu device";
    return nullptr;
  }
  const Nvml* n = OpenNvml(reason);
  if (!n) return nullptr;
  // NVML counts devices in PCI order; CUDA's default order is "fastest first". They agree on
  // one-GPU machines; set CUDA_DEVICE_ORDER=PCI_BUS_ID to make them agree everywhere.
  nvmlDevice_t dev;
  const nvmlReturn_t rc = n->handle_by_index(static_cast<unsigned int>(device.index), &dev);
  if (rc != NVML_SUCCESS) {
    *reason = "NVML has no device " + std::to_string(device.index) + ": " + n->error(rc);
    return nullptr;
  }
  return std::make_unique<NvmlMonitor>(n, dev);
}

}  // namespace optic::host
