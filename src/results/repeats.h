// Repeats of one cell (optic bench --repeat N): the one place that turns the N rows a cell wrote
// into the numbers shown for it. Both the sweep's closing summary (src/bench/progress.cc) and
// optic report (BuildReport) call it, so the terminal and the report can never disagree; it
// lives with the row, below both.
//
// Why medians: one repeat can land on a burst of other work on the host; the median of N runs
// ignores one such outlier where the mean would not. Why the spread: max/min throughput across
// repeats is the run-to-run variance the in-run stability windows cannot see (a cell is "stable"
// inside each run, yet two runs minutes apart differ by 20%); it is judged by the same 10% rule.
//
// Pure functions over rows; no I/O, callable from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "results/row.h"

namespace optic::results {

// The stability rule applied across repeats: max/min throughput <= 1.10, as in-run windows.
inline constexpr double kRepeatSpreadRule = 1.10;

struct RepeatAggregate {
  // Indices into the rows given: the cell's ok rows, one per repeat index, in repeat order.
  std::vector<size_t> members;
  std::optional<double> throughput_per_s;  // median across members
  LatencyMs latency_ms;                    // each field the median across members that have it
  std::optional<double> spread;            // max/min throughput; needs >= 2 members
  bool within_rule() const { return !spread || *spread <= kRepeatSpreadRule; }
};

// Groups the ok rows by cell and returns one aggregate per cell, in order of first appearance.
// A cell is one (file, hostname, MatchKey, backend options): the unit a results file and
// `--resume` already treat as one cell. It is deliberately not split by run_id, because a
// repeated sweep that was killed and resumed writes its repeats under two run_ids; rows from two
// files (two runs to compare) are never mixed. Within a cell, a later row with the same repeat
// index replaces the earlier one (a re-run, as LoadResultsFile does), and rows whose repeat index
// exceeds the latest row's `repeats` (left from a longer earlier sweep) are dropped.
std::vector<RepeatAggregate> AggregateRepeats(const std::vector<Row>& rows);

// The rows to show: the ok rows of each cell replaced by one row (at the first one's position)
// holding the medians of throughput, of each latency percentile and of power and energy, the
// sum of samples, stable only when every repeat was stable, percentile validity only when every
// repeat's was valid, contended when any repeat was (host_other_cpu: the largest), plus
// repeats_aggregated and repeat_spread. Every other field is the lowest repeat's. Rows that are
// not ok pass through unchanged, as does every cell with a single ok row, so files without
// repeats read exactly as before.
std::vector<Row> CollapseRepeats(const std::vector<Row>& rows);

// "resnet50 onnxruntime cpu fp32 b8 offline: 1.23 over 3 repeats" for each collapsed row whose
// spread breaks the rule; empty when none does.
std::vector<std::string> SpreadViolations(const std::vector<Row>& collapsed);

}  // namespace optic::results
