// The settings search (`optic bench --tune-budget-s S`, docs/bench.md "Settings search"): for each
// backend of the grid, its default settings first, then one knob at a time away from them (the
// knobs of TuneSpace), then the best value of every knob that beat the default, all together.
// Every candidate is an ordinary sweep of the grid into the same results file, so its rows are
// ordinary rows that differ in settings.backend_options and threads. Candidates of different
// backends take turns, so a budget that ends the search early leaves every backend its default
// and its first knobs. The defaults always run, whatever the budget; a candidate starts only when
// the mean duration of the candidates so far still fits in what is left of the budget.
// Threading: runs on the calling thread, like RunSweep.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench/sweep.h"

namespace optic::bench {

// One knob: a backend option (or "threads") and the values tried away from its default.
struct TuneKnob {
  std::string key;
  std::vector<std::string> values;
};

// The knobs searched for `backend` on `device` with `cores` cores: options the backend declares
// (option_specs) and, on the CPU, the intra-op thread count.
std::vector<TuneKnob> TuneSpace(const std::string& backend, const Device& device, int cores);

struct TuneOptions {
  double budget_s = 0;                  // > 0
  std::string objective = "throughput";  // or "latency": p50 of the rows' queries
};

struct TuneCandidate {
  std::string backend;
  std::map<std::string, std::string> options;  // on top of the config's own for the backend
  int threads = 0;                             // 0: the config's threads
  std::string role;                            // "default", "knob key=value", "combined"
  double score = 0;                            // geometric mean over the candidate's ok rows
  int rows = 0, ok = 0;
  double wall_s = 0;
  bool run = false;
  std::string skipped;                         // why it did not run (the budget)
};

struct TuneResult {
  std::vector<TuneCandidate> candidates;  // in the order they ran, then the skipped ones
  SweepResult sweep;                      // every candidate's rows and counts
};

Status RunTune(const SweepOptions& options, const TuneOptions& tune, Progress* progress,
               TuneResult* out);

// "onnxruntime: default 812.4/s; best +graph_optimization=basic 903.1/s (1.11x); 6 of 8 ran".
void PrintTuneSummary(const TuneResult& result, const TuneOptions& tune, FILE* out);

}  // namespace optic::bench
