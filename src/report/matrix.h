// The winner matrix across backends and precisions: per (hardware, model) one line, per
// (backend, precision) one column, each cell that pair's best measurement or why it has none
// (unsupported, failed, timed out, out of parity), and per line the column that wins. It answers
// "which framework in which precision" for a whole grid at a glance; SelectWinners (analysis.h)
// names the single best configuration per model. Pure functions over rows; any thread.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "report/results.h"

namespace optic::report {

// The best row of one (hardware, model, backend, precision) for one objective.
struct MatrixBest {
  double value = 0;  // samples/s for throughput, ms for p50 latency
  int batch_size = 0;
  std::string settings;  // SettingsLabel: "defaults", "+num_streams=2 threads=1"
  bool unstable = false;
  bool parity_checked = false;
};

struct MatrixCell {
  std::optional<MatrixBest> throughput, latency;  // from ok rows within parity limits only
  int ok = 0, parity_excluded = 0, unsupported = 0, failed = 0, timeout = 0;
  // When no row competes: "unsupported", "timeout", "failed" or "out of parity" (the most
  // telling of the statuses present) and the first such row's reason. Empty for no rows at all.
  std::string empty_status, reason;
};

struct MatrixLine {
  std::string hardware, model;
  std::vector<MatrixCell> cells;        // parallel to BackendPrecisionMatrix::columns
  int best_throughput = -1, best_latency = -1;  // column index, -1 when no cell competes
  // Winner over the best other column (0 when alone); ties resolve by column order.
  double throughput_margin = 0, latency_margin = 0;
};

struct MatrixColumn {
  std::string backend, precision;
};

struct BackendPrecisionMatrix {
  std::vector<MatrixColumn> columns;  // backends in order of first appearance; fp32 first
  std::vector<MatrixLine> lines;      // by hardware, then model
};

// Rows of kind bench in the offline/single_stream scenarios (or none) take part, of every
// status: ok rows within their precision's parity limits compete with their best batch and
// settings; the others explain an empty cell and are counted in a non-empty one.
BackendPrecisionMatrix BuildBackendPrecisionMatrix(const std::vector<Row>& rows);

// The Markdown section ("## Winner matrix: backend x precision"): one table, then why the empty
// cells are empty. Writes nothing for fewer than two columns or no line.
void WriteMatrixMarkdown(const BackendPrecisionMatrix& m, std::ostream& out);

}  // namespace optic::report
