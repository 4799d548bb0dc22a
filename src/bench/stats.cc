#include "bench/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace optic::bench {

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = rank - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

LatencySummary Summarize(std::vector<double> v) {
  LatencySummary s;
  s.count = static_cast<int64_t>(v.size());
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.p50 = Percentile(v, 50);
  s.p90 = Percentile(v, 90);
  s.p95 = Percentile(v, 95);
  s.p99 = Percentile(v, 99);
  s.p999 = Percentile(v, 99.9);
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  s.min = v.front();
  s.max = v.back();
  s.p90_valid = s.count >= kMinSamplesP90;
  s.p99_valid = s.count >= kMinSamplesP99;
  s.p999_valid = s.count >= kMinSamplesP999;
  return s;
}

bool IsStable(const std::vector<Window>& windows, int count, double tolerance) {
  if (count <= 0 || windows.size() < static_cast<size_t>(count)) return false;
  auto within = [&](auto field) {
    double lo = INFINITY, hi = 0;
    for (size_t i = windows.size() - count; i < windows.size(); ++i) {
      const double v = field(windows[i]);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    return lo > 0 && hi / lo <= 1.0 + tolerance;
  };
  return within([](const Window& w) { return w.throughput_per_s; }) &&
         within([](const Window& w) { return w.latency_p50_ms; });
}

std::vector<double> PoissonArrivals(double qps, int64_t n, uint64_t seed) {
  std::vector<double> out;
  if (qps <= 0 || n <= 0) return out;
  out.reserve(static_cast<size_t>(n));
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(qps);
  double t = 0;
  for (int64_t i = 0; i < n; ++i) {
    t += gap(rng);
    out.push_back(t);
  }
  return out;
}

}  // namespace optic::bench
