// Contention during a cell's steady state: how much CPU everything else on the host used while
// this process was being timed, from /proc/stat (all CPUs), this process's own CPU time
// (getrusage, all threads) and the wall clock. A benchmark on a shared machine cannot stop other
// work, but it can say that it happened, so a noisy row is visible instead of silently skewed.
//
// Linux only: where /proc/stat or /proc/loadavg cannot be read the values are absent (the row
// gets null), never guessed. Threading: a HostLoadMeter is used by one thread; the parse
// functions are pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "results/row.h"

namespace optic::bench {

// The aggregate "cpu" line of /proc/stat, in clock ticks (USER_HZ).
struct CpuTicks {
  uint64_t busy = 0;   // user + nice + system + irq + softirq (guest time is inside user/nice)
  uint64_t steal = 0;  // time the hypervisor ran someone else while this VM wanted a CPU
  uint64_t total = 0;  // busy + idle + iowait + steal
};
// Parses the text of /proc/stat; false when there is no well-formed "cpu " line (at least the
// four fields user nice system idle; later fields, added in later kernels, count when present).
bool ParseProcStat(const std::string& text, CpuTicks* out);
// The first field of /proc/loadavg; false when it is not a number.
bool ParseLoadAvg(const std::string& text, double* one_min);

// Above this much CPU used by other processes during the timed window a row is `contended`.
// 0.1 cores: on the 2-core machines optic is developed on, a cell with all threads busy loses
// about 5% of its CPU to 0.1 cores of other work, half the 10% stability rule; and it is well
// above the measurement's own error (whole clock ticks at each end of the window: 0.02 cores on
// 2 CPUs over 1 s; the sweep parent sleeps in poll() while the cell runs).
inline constexpr double kContendedCores = 0.1;

struct HostLoad {
  std::optional<double> other_cpu_cores;  // CPU used by all other processes, in cores
  std::optional<double> steal_pct;        // steal ticks / all ticks over the window, percent
  std::optional<double> window_s;
};

// The arithmetic of HostLoadMeter::Stop: ticks at the window's start and end (at `hz` ticks per
// second), this process's CPU seconds and the wall seconds in between. Empty when the window or
// the counters make no sense (counters went backwards, no time passed).
HostLoad ComputeHostLoad(const CpuTicks& start, const CpuTicks& end, double self_cpu_s,
                         double wall_s, long hz);

class HostLoadMeter {
 public:
  // Reads /proc/stat, this process's CPU time and the clock. A failed read makes Stop() return
  // empty values rather than a number over a different window.
  void Start();
  HostLoad Stop() const;

 private:
  bool ok_ = false;
  CpuTicks start_;
  double self_cpu_s_ = 0;
  std::chrono::steady_clock::time_point t0_;
};

// The 1-minute load average now, absent when /proc/loadavg cannot be read.
std::optional<double> LoadAvg1m();

// Writes host_other_cpu, cpu_steal_pct and contended into a row (null where absent; contended is
// null when host_other_cpu is).
void WriteHostLoad(const HostLoad& load, results::Row* row);

}  // namespace optic::bench
