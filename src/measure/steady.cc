#include "measure/steady.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace optic::measure {

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

}  // namespace optic::measure
