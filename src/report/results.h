// Reading results files (docs/results-schema.md, schema v1) into typed rows for the reports.
// Ownership: rows are values; a ResultsSet owns its rows and the warnings found while reading.
// Threading: no shared state; call from any thread.
// Failure: a missing file, an unknown schema version or (with strict) a malformed line is a
// Status naming the file and line; without strict a malformed line is skipped with a warning
// that names the file and line, so one truncated line from a killed sweep does not hide the rest.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "optic/status.h"

namespace optic::report {

inline constexpr int kSchemaVersion = 1;

struct LatencyMs {
  std::optional<double> p50, p90, p95, p99, p999, mean, min, max;
};

struct Row {
  std::string file;  // where the row came from, for error messages and the page
  int line = 0;

  std::string kind = "bench";  // bench | load | e2e | ensemble
  std::string run_id, cell_id, timestamp;
  std::string model, backend, device, precision, scenario;
  int batch_size = 0;
  int threads = 0;
  std::string status;  // ok | failed | unsupported | timeout
  std::string error;
  std::optional<double> throughput_per_s;
  LatencyMs latency_ms;
  // Percentiles computed from too few samples (measure::kMinSamplesP90 / P99 / P999).
  bool p90_valid = true, p99_valid = true, p999_valid = true;
  std::optional<long long> samples;
  std::optional<bool> stable;  // absent: the producer did not judge stability
  std::optional<double> load_cold_s, load_cached_s, first_inference_ms;
  std::optional<double> peak_rss_mb, gpu_mem_peak_mb, power_w, energy_j_per_inference;
  std::optional<double> cpu_energy_j_per_inference;
  std::optional<double> max_abs_err, max_rel_err;
  // Agreement with the reference on the check set and its verdict against the precision's limits
  // (docs/results-schema.md); absent in files written before optic judged parity.
  std::optional<double> rel_l2_err, cosine_similarity, top1_agreement, top5_agreement;
  std::optional<bool> parity_pass;
  std::string parity_failure;  // why parity_pass is false
  std::string parity_reference;
  std::vector<std::pair<std::string, double>> stages_ms;  // in the order the file gives
  std::optional<int> concurrency;
  nlohmann::json server, ensemble, settings, versions, host;  // free-form, shown as given
  std::string command;
  // Repeats (optic bench --repeat): this row's 1-based index and how many the sweep ran; 1 and 1
  // when the file does not say.
  int repeat = 1, repeats = 1;
  // Contention during the steady state (docs/results-schema.md); absent when not measured.
  std::optional<double> host_other_cpu, cpu_steal_pct, loadavg_1m;
  std::optional<bool> contended;
  // Set by CollapseRepeats (report/repeats.h) on a row that stands for several ok repeats of one
  // cell: how many, and max/min of their throughputs. 1 and absent for a row as read.
  int repeats_aggregated = 1;
  std::optional<double> repeat_spread;

  bool ok() const { return status == "ok"; }
  bool unstable() const { return stable.has_value() && !*stable; }
  // Out of the parity limits of its precision: such a row is never recommended.
  bool parity_failed() const { return parity_pass.has_value() && !*parity_pass; }
  // The key that matches one cell across files: cell_id, or the fields it is made of.
  std::string MatchKey() const;
  // "AMD EPYC 9654" for CPU rows, the GPU name for cuda rows (the device when the host is unknown).
  std::string Hardware() const;
  // settings.backend_options as a label: "+channels_last +cuda_graph" (a "true" flag by its name,
  // anything else as +key=value, in key order); empty without options. Rows that differ here
  // measured different configurations and are never one series or one competitor.
  std::string OptionsLabel() const;
  // The configuration that competes in the winner matrix: "torch +cuda_graph", or the backend.
  std::string Config() const;
  // "resnet50 onnxruntime cpu fp32 b8" ("resnet50 torch +cuda_graph cuda fp16 b1"): a short label.
  std::string Label() const;
};

struct LoadWarning {
  std::string file;
  int line = 0;
  std::string message;
  std::string ToString() const;
};

struct ResultsSet {
  std::vector<Row> rows;
  std::vector<LoadWarning> warnings;
  std::vector<std::string> files;
};

struct LoadOptions {
  bool strict = false;  // a malformed line is an error instead of a skipped line
};

// A string member of a free-form object (host, versions), or `fallback` when the object, the
// member or its string type is missing: producers write null for what they could not find.
std::string JsonString(const nlohmann::json& object, const char* key, const std::string& fallback = "");

// Parses one JSON line (no trailing newline). kInvalidArgument names the offending field.
Status ParseRow(const std::string& text, Row* out);

// Appends the rows of `path` to `set`. Later rows with the same MatchKey replace earlier ones
// (a resumed or re-run sweep), with a warning.
Status LoadResultsFile(const std::string& path, const LoadOptions& options, ResultsSet* set);

}  // namespace optic::report
