// Side-by-side timing of a framework's own minimal C++ loop against optic's Predictor loop on the
// same model, batch and threads. Rounds alternate which side runs first, so drift (thermal,
// another process) hits both; the result is the median per-call latency of each side and their
// ratio (measure/stats.h's percentiles, as in every results row). Printed as one JSON object per
// framework on stdout.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "measure/stats.h"

namespace optic::bench {

struct OverheadResult {
  std::string framework, version, model;
  int threads = 0, batch = 1, rounds = 0, iters_per_round = 0;
  double native_median_ms = 0, optic_median_ms = 0;
  double native_p90_ms = 0, optic_p90_ms = 0;
};

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
  r->native_median_ms = measure::Median(a);
  r->optic_median_ms = measure::Median(b);
  r->native_p90_ms = measure::Percentile(a, 90);
  r->optic_p90_ms = measure::Percentile(b, 90);
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
