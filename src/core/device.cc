#include "optic/device.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace optic {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// The CUDA driver API calls the query makes (cuda.h's signatures; CUresult is an int, CUdevice
// an int, CUuuid 16 bytes).
struct Driver {
  int (*init)(unsigned) = nullptr;
  int (*count)(int*) = nullptr;
  int (*get)(int*, int) = nullptr;
  int (*uuid)(unsigned char*, int) = nullptr;
  int (*name)(char*, int, int) = nullptr;
  int (*error_string)(int, const char**) = nullptr;
};

template <typename F>
void Sym(void* lib, const char* name, F* f) {
  *f = reinterpret_cast<F>(dlsym(lib, name));
}

std::string UuidText(const unsigned char* b) {
  char out[48];
  std::snprintf(out, sizeof(out),
                "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                b[14], b[15]);
  return out;
}

VisibleGpus Query() {
  VisibleGpus v;
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    v.reason = "no CUDA driver (libcuda.so.1 is not loadable)";
    return v;
  }
  Driver d;
  Sym(lib, "cuInit", &d.init);
  Sym(lib, "cuDeviceGetCount", &d.count);
  Sym(lib, "cuDeviceGet", &d.get);
  Sym(lib, "cuDeviceGetUuid_v2", &d.uuid);
  if (!d.uuid) Sym(lib, "cuDeviceGetUuid", &d.uuid);
  Sym(lib, "cuDeviceGetName", &d.name);
  Sym(lib, "cuGetErrorString", &d.error_string);
  if (!d.init || !d.count) {
    v.reason = "the CUDA driver library lacks cuInit/cuDeviceGetCount";
    return v;
  }
  auto why = [&](int code, const char* call) {
    const char* text = nullptr;
    if (d.error_string) d.error_string(code, &text);
    return std::string("the CUDA driver's ") + call + " failed: " +
           (text ? text : "error " + std::to_string(code));
  };
  if (int rc = d.init(0); rc != 0) {
    v.reason = rc == 100 ? "no CUDA-capable GPU is present (cuInit: no CUDA-capable device)"
                         : why(rc, "cuInit");
    return v;
  }
  int n = 0;
  if (int rc = d.count(&n); rc != 0) {
    v.reason = why(rc, "cuDeviceGetCount");
    return v;
  }
  v.count = n;
  if (n == 0) v.reason = "the CUDA driver reports no GPU";
  for (int i = 0; i < n; ++i) {
    int dev = i;
    if (d.get) d.get(&dev, i);
    unsigned char u[16];
    v.uuids.push_back(d.uuid && d.uuid(u, dev) == 0 ? UuidText(u) : "");
    char name[256] = {0};
    v.names.push_back(d.name && d.name(name, sizeof(name) - 1, dev) == 0 ? name : "");
  }
  return v;
}

}  // namespace

std::string DeviceName(const Device& device) {
  if (device.is_cpu()) return "cpu";
  return device.index == 0 ? "cuda" : "cuda:" + std::to_string(device.index);
}

Status ParseDevice(const std::string& text, Device* out) {
  const std::string t = Lower(Trim(text));
  if (t == "cpu") { *out = Device{DeviceType::kCPU, 0}; return Status::OK(); }
  if (t == "cuda" || t == "gpu") { *out = Device{DeviceType::kCUDA, 0}; return Status::OK(); }
  if (t.rfind("cuda:", 0) == 0 && t.size() > 5 && t.size() < 10 &&
      std::all_of(t.begin() + 5, t.end(), [](unsigned char c) { return std::isdigit(c); })) {
    *out = Device{DeviceType::kCUDA, std::atoi(t.c_str() + 5)};
    return Status::OK();
  }
  return Status::InvalidArgument("unknown device '" + text +
                                 "' (expected cpu, cuda or cuda:K, K the GPU's index from 0)");
}

Status ParseDeviceList(const std::string& text, std::vector<Device>* out) {
  std::vector<Device> devices;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                           : comma - start);
    if (Trim(item).empty()) {
      return Status::InvalidArgument("device list '" + text + "' has an empty entry");
    }
    Device d;
    OPTIC_RETURN_IF_ERROR(ParseDevice(item, &d));
    if (std::find(devices.begin(), devices.end(), d) != devices.end()) {
      return Status::InvalidArgument("device list '" + text + "' names " + DeviceName(d) +
                                     " twice");
    }
    devices.push_back(d);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  *out = std::move(devices);
  return Status::OK();
}

std::string DeviceListName(const std::vector<Device>& devices) {
  std::string out;
  for (const Device& d : devices) out += (out.empty() ? "" : "+") + DeviceName(d);
  return out;
}

const VisibleGpus& VisibleCudaDevices() {
  static std::once_flag once;
  static VisibleGpus visible;
  std::call_once(once, [] { visible = Query(); });
  return visible;
}

std::string CudaVisibleDevicesNote() {
  const char* env = std::getenv("CUDA_VISIBLE_DEVICES");
  return env ? std::string("CUDA_VISIBLE_DEVICES=") + env : "CUDA_VISIBLE_DEVICES unset";
}

Status CheckDeviceVisible(const Device& device, const VisibleGpus& visible) {
  if (device.is_cpu()) return Status::OK();
  const std::string name = "cuda:" + std::to_string(device.index);
  if (device.index >= 0 && device.index < visible.count) return Status::OK();
  if (visible.count == 0) {
    return Status::UnsupportedHardware(name + ": no GPU is visible to this process (" +
                                       visible.reason + "; " + CudaVisibleDevicesNote() +
                                       "); run on the CPU (device cpu) or on a machine with a GPU");
  }
  const std::string range =
      visible.count == 1 ? "cuda:0" : "cuda:0 to cuda:" + std::to_string(visible.count - 1);
  return Status::UnsupportedHardware(
      name + ": no such GPU: " + std::to_string(visible.count) +
      (visible.count == 1 ? " GPU is" : " GPUs are") + " visible to this process (" + range +
      "; " + CudaVisibleDevicesNote() +
      "); indices count the visible GPUs from 0, after CUDA_VISIBLE_DEVICES remaps them");
}

Status CheckDeviceVisible(const Device& device) {
  if (device.is_cpu()) return Status::OK();
  return CheckDeviceVisible(device, VisibleCudaDevices());
}

}  // namespace optic
