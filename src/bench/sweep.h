// The sweep: expands a BenchConfig into cells, runs each in its own child process (reference
// cells first, once per model/batch, cached in the output directory), `repeat` times in
// interleaved passes (sweep_plan.h, ScheduleJobs), appends one row per cell and repeat to the
// results file, shows progress and prints the summary.
// Threading: runs on the calling thread; one sweep per results file at a time.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/row.h"

#include "bench/config.h"
#include "bench/progress.h"

namespace optic::bench {

struct SweepOptions {
  BenchConfig config;
  std::string self_exe;  // the optic binary that understands `bench-cell`
  std::string command;   // the command line, recorded in every row
  bool list_only = false;  // print the cells and stop
};

struct SweepResult {
  int cells = 0, skipped = 0, ok = 0, failed = 0, unsupported = 0, timeout = 0;
  std::vector<results::Row> rows;  // every row of this grid in the file (resumed ones too)
};

// The built-in defaults filled in where the config leaves a list empty (docs/bench.md).
Status ResolveDefaults(BenchConfig* config);

// Fails for problems with the sweep itself (unknown backend or model, unwritable file); a cell's
// problems become its row.
Status RunSweep(const SweepOptions& options, Progress* progress, SweepResult* out);

}  // namespace optic::bench
