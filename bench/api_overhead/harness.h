// Side-by-side timing of a framework's own minimal C++ loop against optic's Predictor loop on the
// same model, batch and threads. Rounds alternate which side runs first, so drift (thermal,
// another process) hits both; the result is the median per-call latency of each side and their
// ratio. Printed as one JSON object per framework on stdout.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace optic::bench {

struct OverheadResult {
  std::string framework, version, model;
  int threads = 0, batch = 1, rounds = 0, iters_per_round = 0;
  double native_median_ms = 0, optic_median_ms = 0;
  double native_p90_ms = 0, optic_p90_ms = 0;
};

inline double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

inline void TimeSideBySide(const std::function<void()>& native, const std::function<void()>& optic,
                           int rounds, int iters, OverheadResult* r) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < 20; ++i) { native(); optic(); }  // warm-up, discarded
  std::vector<double> a, b;
  auto run = [&](const std::function<void()>& fn, std::vector<double>* out) {
    for (int i = 0; i < iters; ++i) {
      auto t0 = Clock::now();
      fn();
      out->push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
  };
  for (int round = 0; round < rounds; ++round) {
    if (round % 2 == 0) { run(native, &a); run(optic, &b); }
    else { run(optic, &b); run(native, &a); }
  }
  r->rounds = rounds;
  r->iters_per_round = iters;
  r->native_median_ms = Percentile(a, 0.5);
  r->optic_median_ms = Percentile(b, 0.5);
  r->native_p90_ms = Percentile(a, 0.9);
  r->optic_p90_ms = Percentile(b, 0.9);
}

inline void PrintResult(const OverheadResult& r) {
  std::printf(
      "{\"framework\": \"%s\", \"version\": \"%s\", \"model\": \"%s\", \"batch\": %d, "
      "\"threads\": %d, \"rounds\": %d, \"iters_per_round\": %d, \"native_median_ms\": %.4f, "
      "\"optic_median_ms\": %.4f, \"native_p90_ms\": %.4f, \"optic_p90_ms\": %.4f, "
      "\"overhead_pct\": %.2f}\n",
      r.framework.c_str(), r.version.c_str(), r.model.c_str(), r.batch, r.threads, r.rounds,
      r.iters_per_round, r.native_median_ms, r.optic_median_ms, r.native_p90_ms, r.optic_p90_ms,
      100.0 * (r.optic_median_ms / r.native_median_ms - 1.0));
  std::fflush(stdout);
}

}  // namespace optic::bench
