#include "bench/resources.h"

#include <filesystem>
#include <fstream>
#include <regex>

namespace optic::bench {

namespace fs = std::filesystem;

double PeakRssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  return -1;
}

namespace {
bool ReadNumber(const std::string& path, double* out) {
  std::ifstream in(path);
  return static_cast<bool>(in >> *out);
}
}  // namespace

RaplMeter RaplMeter::Open(const std::string& root) {
  RaplMeter m;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    m.reason_ = root + " does not exist (no RAPL powercap driver on this machine/VM)";
    return m;
  }
  // Package domains are intel-rapl:N; subdomains (intel-rapl:N:M) are inside them and would
  // double count.
  const std::regex package("intel-rapl:[0-9]+");
  std::string unreadable;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (!std::regex_match(name, package)) continue;
    Domain d;
    d.energy_path = (e.path() / "energy_uj").string();
    double v;
    if (!ReadNumber(d.energy_path, &v)) {
      unreadable = d.energy_path;
      continue;
    }
    ReadNumber((e.path() / "max_energy_range_uj").string(), &d.max_uj);
    m.domains_.push_back(d);
  }
  if (m.domains_.empty()) {
    m.reason_ = unreadable.empty() ? "no intel-rapl package domain under " + root
                                   : unreadable + " is not readable (needs root since CVE-2020-8694)";
  }
  return m;
}

void RaplMeter::Start() {
  for (auto& d : domains_) ReadNumber(d.energy_path, &d.last_uj);
}

double RaplMeter::Stop() {
  double total_uj = 0;
  for (auto& d : domains_) {
    double now = d.last_uj;
    ReadNumber(d.energy_path, &now);
    double delta = now - d.last_uj;
    if (delta < 0 && d.max_uj > 0) delta += d.max_uj;  // the counter wrapped once
    total_uj += delta;
    d.last_uj = now;
  }
  return total_uj * 1e-6;
}

}  // namespace optic::bench
