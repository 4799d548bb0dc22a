// The rows of bench cells: a cell's row with its identity filled in (results/row.h is the row,
// its writer and its reader), and what the sweep adds to every row it writes.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "bench/config.h"
#include "results/row.h"

namespace optic::bench {

using results::ResultsWriter;

// What is common to all rows of one sweep.
struct RunInfo {
  std::string run_id;
  std::string command;
  nlohmann::json versions = nlohmann::json::object();
  nlohmann::json host = nlohmann::json::object();
};

// The row of `cell`: identity and settings filled in, measurements empty, status "failed" with
// error "not run" until the cell fills them. The child process builds its rows from it; the
// sweep fills in the run (SetRun).
results::Row CellRow(const CellSpec& cell);
// Sets run_id, command, versions, host and the timestamp (now).
void SetRun(const RunInfo& run, results::Row* row);
// CellRow + SetRun.
results::Row RowFor(const CellSpec& cell, const RunInfo& run);

}  // namespace optic::bench
