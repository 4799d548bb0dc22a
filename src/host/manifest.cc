#include "host/manifest.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <random>
#include <thread>

#include "host/gpu_monitor.h"
#include "optic/registry.h"

namespace optic::host {

using nlohmann::json;

namespace {
// The value after "key:" (or "key=") on the first line of `path` starting with `key`.
std::string FindField(const std::string& path, const std::string& key, char sep) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    const size_t pos = line.find(sep);
    if (pos == std::string::npos) continue;
    std::string v = line.substr(pos + 1);
    v.erase(0, v.find_first_not_of(" \t\""));
    while (!v.empty() && (v.back() == '"' || v.back() == ' ')) v.pop_back();
    return v;
  }
  return "";
}
json OrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
}  // namespace

json HostManifest() {
  json h;
  h["cpu"] = OrNull(FindField("/proc/cpuinfo", "model name", ':'));
  h["cores"] = std::thread::hardware_concurrency();
  const std::string mem_kb = FindField("/proc/meminfo", "MemTotal", ':');
  h["memory_gb"] = mem_kb.empty() ? json(nullptr) : json(std::stod(mem_kb) / (1024.0 * 1024.0));
  h["os"] = OrNull(FindField("/etc/os-release", "PRETTY_NAME", '='));
  utsname u{};
  h["kernel"] = uname(&u) == 0 ? json(std::string(u.release)) : json(nullptr);
  char host[256] = {};
  h["hostname"] = gethostname(host, sizeof(host) - 1) == 0 ? json(std::string(host)) : json(nullptr);
  std::string reason;
  auto gpu = CreateGpuMonitor(Device{DeviceType::kCUDA, 0}, &reason);
  h["gpu"] = gpu ? json(gpu->name()) : json(nullptr);
  return h;
}

json Versions() {
  json v;
  v["optic"] = "0.1.0";
  for (const auto& name : BackendNames()) {
    std::unique_ptr<Backend> b;
    v[name] = CreateBackend(name, &b).ok() ? json(b->version()) : json(nullptr);
  }
  std::string reason;
  auto gpu = CreateGpuMonitor(Device{DeviceType::kCUDA, 0}, &reason);
  v["gpu_driver"] = gpu ? json(gpu->driver_version()) : json(nullptr);
  return v;
}

std::string UtcTimestamp() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string NewRunId() {
  std::random_device rd;
  char hex[16];
  std::snprintf(hex, sizeof(hex), "%08x", rd());
  return UtcTimestamp() + "-" + hex;
}

}  // namespace optic::host
