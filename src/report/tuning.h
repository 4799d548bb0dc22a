// What the settings search found (docs/bench.md "Settings search"): per measured cell, the best
// configuration against the backend's defaults, and per model the latency-throughput Pareto
// front. Pure functions over rows; callable from any thread.
#pragma once

#include <string>
#include <vector>

#include "report/results.h"

namespace optic::report {

// One (hardware, model, backend, device, precision, batch, scenario) with a defaults row (no
// backend options, the host's thread count) and at least one other configuration of it.
struct SettingsGain {
  std::string hardware, model, backend, device, precision, scenario;
  int batch_size = 0;
  double default_throughput = 0, best_throughput = 0, gain = 0;  // gain = best / default
  std::string best_config;  // "+graph_optimization=basic threads=1", or "defaults"
  int configurations = 0;   // ok rows within parity compared, the defaults included
};
std::vector<SettingsGain> SettingsGains(const std::vector<Row>& rows);

// Per (hardware, model) with at least one configuration beside the defaults: the fastest row
// (throughput) against the defaults of its own backend in the same cell, and against the
// fastest defaults row of any backend (any batch): what the settings search wins per model.
struct ModelSettingsWinner {
  std::string hardware, model, backend, settings, precision;
  int batch_size = 0;
  double throughput = 0;
  double own_default_throughput = 0, own_gain = 0;  // 0: no defaults row of that cell
  std::string best_default_backend;
  int best_default_batch = 0;
  double best_default_throughput = 0, gain_over_best_default = 0;
};
std::vector<ModelSettingsWinner> ModelSettingsWinners(const std::vector<Row>& rows);

// Per backend, over its SettingsGains cells: the median and the range of the gain.
struct BackendGainSummary {
  std::string backend;
  int cells = 0;
  double median_gain = 0, min_gain = 0, max_gain = 0;
};
std::vector<BackendGainSummary> SummarizeGains(const std::vector<SettingsGain>& gains);

// Rows (ok, within parity, with p50 and throughput) that no other row of the same hardware and
// model beats on both: lower or equal p50 and higher or equal throughput, one of them strictly.
struct ParetoPoint {
  std::string config;  // "onnxruntime +graph_optimization=basic", with threads when not default
  std::string precision;
  int batch_size = 0, threads = 0;
  double p50_ms = 0, throughput = 0;
  size_t row = 0;  // index into the rows passed in
};
struct ParetoFront {
  std::string hardware, model;
  std::vector<ParetoPoint> points;  // by increasing p50
  int candidates = 0;               // rows considered
};
std::vector<ParetoFront> ParetoFronts(const std::vector<Row>& rows);

// "+graph_optimization=basic threads=1": the row's options and its thread count when it is not
// the host's; "defaults" for neither.
std::string SettingsLabel(const Row& row);

}  // namespace optic::report
