#include "bench/host_load.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace optic::bench {

namespace {

bool ReadFile(const char* path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return !out->empty();
}

bool ReadCpuTicks(CpuTicks* out) {
  std::string text;
  return ReadFile("/proc/stat", &text) && ParseProcStat(text, out);
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);  // all threads of this process
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

}  // namespace

bool ParseProcStat(const std::string& text, CpuTicks* out) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("cpu ", 0) != 0) continue;  // "cpu0 ..." are the per-CPU lines
    std::istringstream fields(line.substr(4));
    std::vector<uint64_t> v;
    std::string f;
    while (fields >> f) {
      uint64_t x = 0;
      const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), x);
      if (ec != std::errc() || end != f.data() + f.size()) return false;
      v.push_back(x);
    }
    if (v.size() < 4) return false;
    v.resize(10, 0);  // user nice system idle iowait irq softirq steal guest guest_nice
    out->busy = v[0] + v[1] + v[2] + v[5] + v[6];
    out->steal = v[7];
    out->total = out->busy + v[3] + v[4] + v[7];
    return true;
  }
  return false;
}

bool ParseLoadAvg(const std::string& text, double* one_min) {
  std::istringstream in(text);
  std::string first;
  if (!(in >> first)) return false;
  char* end = nullptr;
  const double v = std::strtod(first.c_str(), &end);
  if (end == first.c_str() || *end != '\0' || v < 0) return false;
  *one_min = v;
  return true;
}

void HostLoadMeter::Start() {
  ok_ = ReadCpuTicks(&start_);
  self_cpu_s_ = SelfCpuSeconds();
  t0_ = std::chrono::steady_clock::now();
}

HostLoad ComputeHostLoad(const CpuTicks& start, const CpuTicks& end, double self_cpu_s,
                         double wall_s, long hz) {
  HostLoad out;
  if (wall_s <= 0 || hz <= 0 || end.total < start.total || end.busy < start.busy ||
      end.steal < start.steal) {
    return out;
  }
  const double busy_s = static_cast<double>(end.busy - start.busy) / hz;
  // /proc/stat counts in clock ticks, getrusage in microseconds: on an idle host the difference
  // can come out a hair below zero. Nothing else ran then, so the value is 0, not negative.
  out.other_cpu_cores = std::max(0.0, (busy_s - self_cpu_s) / wall_s);
  const uint64_t total = end.total - start.total;
  if (total > 0) out.steal_pct = 100.0 * static_cast<double>(end.steal - start.steal) / total;
  out.window_s = wall_s;
  return out;
}

HostLoad HostLoadMeter::Stop() const {
  CpuTicks end;
  if (!ok_ || !ReadCpuTicks(&end)) return {};
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  return ComputeHostLoad(start_, end, SelfCpuSeconds() - self_cpu_s_, wall, sysconf(_SC_CLK_TCK));
}

std::optional<double> LoadAvg1m() {
  std::string text;
  double v = 0;
  if (ReadFile("/proc/loadavg", &text) && ParseLoadAvg(text, &v)) return v;
  return std::nullopt;
}

void WriteHostLoad(const HostLoad& load, results::Row* row) {
  row->host_other_cpu = load.other_cpu_cores;
  row->cpu_steal_pct = load.steal_pct;
  if (load.other_cpu_cores) row->contended = *load.other_cpu_cores > kContendedCores;
  else row->contended.reset();
}

}  // namespace optic::bench
