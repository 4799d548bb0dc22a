// Contention measurement of optic bench (src/bench/host_load.h): /proc/stat and /proc/loadavg
// parsing on sample texts, the row fields, and the meter against a process that spins.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "bench/host_load.h"

namespace optic::bench {
namespace {

// A 2-CPU /proc/stat as Linux 6.x writes it (user nice system idle iowait irq softirq steal
// guest guest_nice), with the lines that follow the CPU lines.
const char* kProcStat =
    "cpu  2749499 144678 380154 982895 9916 0 3954 7447 100 0\n"
    "cpu0 1337683 73382 172874 547832 2646 0 1055 3708 50 0\n"
    "cpu1 1411815 71296 207279 435063 7269 0 2899 3738 50 0\n"
    "intr 123456 0 0\n"
    "ctxt 987654\n"
    "btime 1700000000\n"
    "processes 4242\n";

TEST(ProcStat, ParsesTheAggregateLine) {
  CpuTicks t;
  ASSERT_TRUE(ParseProcStat(kProcStat, &t));
  // busy = user + nice + system + irq + softirq; guest is already inside user.
  EXPECT_EQ(t.busy, 2749499u + 144678u + 380154u + 0u + 3954u);
  EXPECT_EQ(t.steal, 7447u);
  EXPECT_EQ(t.total, t.busy + 982895u + 9916u + 7447u);
}

TEST(ProcStat, OldKernelsWithFourFields) {
  CpuTicks t;
  ASSERT_TRUE(ParseProcStat("cpu  10 20 30 40\n", &t));
  EXPECT_EQ(t.busy, 60u);
  EXPECT_EQ(t.steal, 0u);
  EXPECT_EQ(t.total, 100u);
}

TEST(ProcStat, RejectsWhatIsNotAStatFile) {
  CpuTicks t;
  EXPECT_FALSE(ParseProcStat("", &t));
  EXPECT_FALSE(ParseProcStat("cpu0 1 2 3 4\n", &t));    // per-CPU line only
  EXPECT_FALSE(ParseProcStat("cpu  1 2 3\n", &t));      // too few fields
  EXPECT_FALSE(ParseProcStat("cpu  1 2 x 4\n", &t));    // not a number
  EXPECT_FALSE(ParseProcStat("cpu  1 -2 3 4\n", &t));   // negative
  EXPECT_FALSE(ParseProcStat("cpu  99999999999999999999999 1 1 1\n", &t));  // overflow
}

TEST(LoadAvg, FirstField) {
  double v = -1;
  ASSERT_TRUE(ParseLoadAvg("2.11 1.57 1.30 3/612 12345\n", &v));
  EXPECT_DOUBLE_EQ(v, 2.11);
  EXPECT_FALSE(ParseLoadAvg("", &v));
  EXPECT_FALSE(ParseLoadAvg("abc 1 1", &v));
}

TEST(HostLoadRow, NullWhenNotMeasuredAndContendedAboveThreshold) {
  results::Row typed;
  WriteHostLoad(HostLoad{}, &typed);
  nlohmann::json row = results::ToJson(typed);
  EXPECT_TRUE(row["host_other_cpu"].is_null());
  EXPECT_TRUE(row["cpu_steal_pct"].is_null());
  EXPECT_TRUE(row["contended"].is_null());  // unknown, not "not contended"
  WriteHostLoad(HostLoad{0.05, 0.0, 1.0}, &typed);
  row = results::ToJson(typed);
  EXPECT_DOUBLE_EQ(row["host_other_cpu"].get<double>(), 0.05);
  EXPECT_EQ(row["contended"], false);
  WriteHostLoad(HostLoad{kContendedCores + 0.01, 2.5, 1.0}, &typed);
  row = results::ToJson(typed);
  EXPECT_EQ(row["contended"], true);
  EXPECT_DOUBLE_EQ(row["cpu_steal_pct"].get<double>(), 2.5);
}

TEST(ComputeHostLoad, SubtractsOwnCpuAndScalesToCores) {
  const CpuTicks a{1000, 10, 5000};
  // 2 s at 100 Hz on 2 CPUs: 400 ticks in all, 300 busy (1.2 s of it this process), 8 stolen.
  const CpuTicks b{1300, 18, 5400};
  const HostLoad h = ComputeHostLoad(a, b, /*self_cpu_s=*/1.2, /*wall_s=*/2.0, /*hz=*/100);
  ASSERT_TRUE(h.other_cpu_cores.has_value());
  EXPECT_NEAR(*h.other_cpu_cores, (3.0 - 1.2) / 2.0, 1e-12);  // 0.9 cores
  EXPECT_NEAR(*h.steal_pct, 100.0 * 8 / 400, 1e-12);
  // Tick rounding can put own CPU a hair above all busy time: 0 cores, not negative.
  EXPECT_EQ(ComputeHostLoad(a, b, 3.01, 2.0, 100).other_cpu_cores, 0.0);
  // Counters that went backwards, or no time: nothing, rather than a number.
  EXPECT_FALSE(ComputeHostLoad(b, a, 0, 2.0, 100).other_cpu_cores.has_value());
  EXPECT_FALSE(ComputeHostLoad(a, b, 0, 0.0, 100).other_cpu_cores.has_value());
}

bool HaveProc() { return std::ifstream("/proc/stat").good(); }

void Spin(double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  volatile uint64_t x = 0;
  while (std::chrono::steady_clock::now() < end) x = x + 1;
}

// Another process spinning one core during the window is "other" CPU: at least most of a core
// (it may share the CPU with the machine's other work, which counts as other too).
TEST(HostLoadMeter, SeesAnotherProcessSpinning) {
  if (!HaveProc()) GTEST_SKIP() << "no /proc/stat on this system";
  HostLoadMeter m;
  m.Start();
  const pid_t pid = fork();
  if (pid == 0) {
    Spin(0.6);
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  waitpid(pid, &status, 0);
  const HostLoad h = m.Stop();
  ASSERT_TRUE(h.other_cpu_cores.has_value());
  EXPECT_GT(*h.other_cpu_cores, 0.6) << "a spinning child was not counted as other CPU";
  ASSERT_TRUE(h.steal_pct.has_value());
  EXPECT_GE(*h.steal_pct, 0.0);
  EXPECT_LE(*h.steal_pct, 100.0);
}

// Whatever else runs, this process's CPU plus everyone else's cannot exceed the cores.
TEST(HostLoadMeter, OwnPlusOtherFitsTheMachine) {
  if (!HaveProc()) GTEST_SKIP() << "no /proc/stat on this system";
  const double cores = std::max(1u, std::thread::hardware_concurrency());
  rusage u0{}, u1{};
  getrusage(RUSAGE_SELF, &u0);
  HostLoadMeter m;
  m.Start();
  Spin(0.6);
  const HostLoad h = m.Stop();
  getrusage(RUSAGE_SELF, &u1);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  const double self = s(u1.ru_utime) + s(u1.ru_stime) - s(u0.ru_utime) - s(u0.ru_stime);
  ASSERT_TRUE(h.other_cpu_cores.has_value());
  ASSERT_TRUE(h.window_s.has_value());
  EXPECT_GE(*h.other_cpu_cores, 0.0);
  // Slack: clock-tick rounding (1/USER_HZ per CPU over a 0.6 s window).
  EXPECT_LE(*h.other_cpu_cores + self / *h.window_s, cores + 0.1);
}

}  // namespace
}  // namespace optic::bench
