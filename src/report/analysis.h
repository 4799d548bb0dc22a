// Analyses behind the report's figures: a power-law fit, the winner matrix, precision speed-ups
// and the before/after comparison. Pure functions over rows; no I/O, callable from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "optic/status.h"
#include "report/results.h"

namespace optic::report {

// y = a * x^b fitted by least squares on (log x, log y), as Pochelu et al. fit power against
// throughput. r2 is the coefficient of determination in log space.
struct PowerLaw {
  double a = 0, b = 0, r2 = 0;
  int n = 0;
};
// kInvalidArgument for fewer than 2 points, a non-positive value, or all x equal.
Status FitPowerLaw(const std::vector<double>& x, const std::vector<double>& y, PowerLaw* out);

// One power-vs-throughput fit per hardware, over its successful rows that have power_w.
struct PowerFit {
  std::string hardware;
  PowerLaw law;
};
std::vector<PowerFit> FitPowerByHardware(const std::vector<Row>& rows);

// Winner matrix: for each (hardware, model), the configuration (backend plus its backend
// options, Row::Config) with the lowest p50 latency and the one with the highest throughput,
// each with the runner-up (the best *other* configuration: torch +cuda_graph and plain torch
// are two). Only successful bench rows of the offline/single_stream scenarios (or none given)
// compete; each configuration competes with its best row (any precision, batch, threads, run),
// which the cell names. A row out of its precision's parity limits never competes (it is
// counted in parity_excluded); a row without a parity verdict (no reference, or a file written
// before optic judged parity) competes with parity_checked false, and the reports say so.
struct Entry {
  std::string backend, config, precision;
  int batch_size = 0;
  double value = 0;
  bool unstable = false;
  bool parity_checked = false;  // the row has a parity verdict (and, competing, passed it)
  std::string file;
  int line = 0;
};
struct WinnerCell {
  std::string hardware, model;
  std::optional<Entry> best_latency, runner_up_latency;      // value: p50 ms
  std::optional<Entry> best_throughput, runner_up_throughput;  // value: samples/s
  bool latency_tie = false, throughput_tie = false;  // the runner-up equals the winner
  int excluded = 0;  // rows of this cell not counted: failed, unsupported, timeout
  int parity_excluded = 0;  // ok rows not counted: out of their precision's parity limits
};
std::vector<WinnerCell> SelectWinners(const std::vector<Row>& rows);

// The line each row belongs to in the report's figures. Rows of one series (same hardware, model
// and label) differ only in batch size or concurrency, so a line never jumps between two
// measurements of one point. The label names what separates series within a hardware and model:
// "torch fp16 +channels_last +cuda_graph", then, only where needed to tell rows apart, the
// device, the scenario (unless offline), the threads and the run ("run 2026-11-22 01:04", or
// the file when a row has no run_id). color_key is the label without the precision (precisions
// share a colour and differ in dashes).
struct SeriesInfo {
  std::string label, color_key;
};
// Parallel to `rows`.
std::vector<SeriesInfo> AssignSeries(const std::vector<Row>& rows);

// Throughput of a reduced precision over fp32 for the same hardware, model, configuration
// (backend and options), device, batch, threads, scenario, kind and run; both rows successful.
struct Speedup {
  std::string hardware, model, backend, config, device, precision, scenario;
  std::string series;  // the reduced-precision row's AssignSeries label
  int batch_size = 0;
  double fp32_throughput = 0, throughput = 0, speedup = 0;
  std::optional<double> max_abs_err;  // parity of the reduced-precision row
  std::optional<bool> parity_pass;    // its verdict; absent when not judged
  std::string parity_failure;
  // The reduced-precision row's agreement with the fp32 reference; absent when not measured
  // (top-k only for class scores).
  std::optional<double> top1_agreement, top5_agreement, cosine_similarity, rel_l2_err;
};
std::vector<Speedup> PrecisionSpeedups(const std::vector<Row>& rows);

// Before/after: rows matched by MatchKey (plus hardware when one side has several machines).
struct ComparisonRow {
  std::string key, label;
  const Row* before = nullptr;  // null: only in the new results
  const Row* after = nullptr;   // null: only in the base results
  std::optional<double> throughput_ratio, p50_ratio, p99_ratio;  // after / before
  bool regression = false, improvement = false;
  std::string note;  // why it is a regression ("status ok -> failed", "throughput -12%")
};
struct Comparison {
  double threshold = 0.05;
  std::vector<ComparisonRow> rows;
  int regressions = 0, improvements = 0;
};
// `threshold` is the relative change that counts: throughput below 1-threshold or p50/p99 above
// 1+threshold is a regression, the opposite an improvement. Pointers refer into the vectors.
Comparison Compare(const std::vector<Row>& before, const std::vector<Row>& after, double threshold);

}  // namespace optic::report
