// Result rows (docs/results-schema.md): the one typed row that optic bench, optic load and optic
// pipeline write and optic report reads, its JSON-line writer and its reader/validator.
//
// Fields: OPTIC_RESULT_ROW_FIELDS lists every scalar and free-form field once, with its JSON
// name, C++ type, default and rules; the struct members, ToJson and FromJson are generated from
// it. Adding a field is one line there (plus its row in docs/results-schema.md); a field whose
// checks go beyond its type gets them in Validate. Nested measurements (latency_ms,
// latency_percentiles_valid, load_s, stages_ms) are members written and read by hand.
//
// Rules of a field (ToJson / FromJson):
//   kKey       required by every reader (a row without it cannot be shown);
//   kRequired  schema v1 requires it: always written, and a strict read fails without it;
//   kNull      an empty value is written as null (otherwise a required empty string is "");
//   kOmit      an empty value is not written (fields of some kinds of row only);
//   kArray     a free-form field that holds an array (otherwise an object).
// Fields without kOmit are always written, null when empty.
//
// Durability: ResultsWriter::Append validates the row, writes it as one complete line with a
// single write() on an O_APPEND descriptor and fsyncs it, so a sweep killed at any moment leaves
// only whole rows (a torn last line is possible only if the machine loses power; the reader skips
// it and says so). Threading: rows are values; one writer per file per process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "optic/status.h"

namespace optic::results {

inline constexpr int kSchemaVersion = 1;

enum FieldRule : unsigned { kKey = 1, kRequired = 2, kNull = 4, kOmit = 8, kArray = 16 };

using OptNum = std::optional<double>;
using OptInt = std::optional<int64_t>;
using OptBool = std::optional<bool>;
using Json = nlohmann::json;

// X(C++ type, JSON name, default, rules)
#define OPTIC_RESULT_ROW_FIELDS(X)                                                   \
  /* what produced the row and which cell it measured */                             \
  X(std::string, kind, "bench", kRequired)                                           \
  X(std::string, run_id, {}, kRequired)                                              \
  X(std::string, cell_id, {}, kRequired)                                             \
  X(std::string, timestamp, {}, kRequired)                                           \
  X(std::string, model, {}, kKey | kRequired)                                        \
  X(std::string, backend, {}, kKey | kRequired)                                      \
  X(std::string, device, {}, kKey | kRequired)                                       \
  X(std::string, precision, {}, kKey | kRequired)                                    \
  X(int, batch_size, 0, kKey | kRequired)                                            \
  X(int, threads, 0, kRequired)                                                      \
  X(std::string, scenario, {}, kRequired)                                            \
  X(std::string, status, "failed", kKey | kRequired)                                 \
  X(std::string, error, {}, kRequired | kNull)                                       \
  /* the steady state */                                                             \
  X(OptNum, throughput_per_s, {}, kRequired | kNull)                                 \
  X(OptInt, samples, {}, kRequired)                                                  \
  X(OptBool, stable, {}, kRequired)                                                  \
  X(Json, windows, Json::array(), kRequired | kArray)                                \
  X(OptNum, first_inference_ms, {}, kRequired | kNull)                               \
  /* resources */                                                                    \
  X(OptNum, peak_rss_mb, {}, kRequired | kNull)                                      \
  X(OptNum, gpu_mem_peak_mb, {}, kRequired | kNull)                                  \
  X(OptNum, power_w, {}, kRequired | kNull)                                          \
  X(OptNum, energy_j_per_inference, {}, kRequired | kNull)                           \
  X(OptNum, cpu_energy_j_per_inference, {}, kNull)                                   \
  X(OptNum, gpu_util_pct, {}, kOmit)                                                 \
  X(OptNum, gpu_sm_clock_mhz, {}, kOmit)                                             \
  X(OptNum, gpu_temperature_c, {}, kOmit)                                            \
  X(Json, device_phases_ms, nullptr, kOmit)                                          \
  X(OptNum, bridge_overhead_ms, {}, kOmit)                                           \
  X(Json, phases, nullptr, kOmit)                                                    \
  /* agreement with the reference (optic/parity.h) */                                \
  X(OptNum, max_abs_err, {}, kRequired | kNull)                                      \
  X(OptNum, max_rel_err, {}, kRequired | kNull)                                      \
  X(std::string, parity_reference, {}, kRequired | kNull)                            \
  X(OptNum, rel_l2_err, {}, kNull)                                                   \
  X(OptNum, cosine_similarity, {}, kNull)                                            \
  X(OptNum, top1_agreement, {}, kNull)                                               \
  X(OptNum, top5_agreement, {}, kNull)                                               \
  X(OptInt, parity_samples, {}, kNull)                                               \
  X(OptInt, nonfinite_outputs, {}, kNull)                                            \
  X(OptBool, parity_pass, {}, kNull)                                                 \
  X(std::string, parity_failure, {}, kNull)                                          \
  X(std::string, parity_error, {}, kOmit)                                            \
  /* the model file and its inputs */                                                \
  X(std::string, source_file, {}, kNull)                                             \
  X(std::string, source_sha256, {}, kNull)                                           \
  X(std::string, converted_by, {}, kNull)                                            \
  X(std::string, input_data, {}, kNull)                                              \
  X(Json, input_shapes, nullptr, kOmit)                                              \
  /* repeats and contention */                                                       \
  X(std::optional<int>, repeat, {}, kOmit)                                           \
  X(std::optional<int>, repeats, {}, kOmit)                                          \
  X(OptNum, host_other_cpu, {}, kNull)                                               \
  X(OptNum, cpu_steal_pct, {}, kNull)                                                \
  X(OptBool, contended, {}, kNull)                                                   \
  X(OptNum, loadavg_1m, {}, kNull)                                                   \
  /* kinds of row: server scenarios, load, ensembles, end to end */                  \
  X(Json, server, nullptr, kOmit)                                                    \
  X(std::optional<int>, concurrency, {}, kOmit)                                      \
  X(std::string, protocol, {}, kOmit)                                                \
  X(Json, devices, nullptr, kOmit | kArray)                                          \
  X(Json, ensemble, nullptr, kOmit)                                                  \
  X(std::string, image_class, {}, kOmit)                                             \
  X(std::string, preprocess, {}, kOmit)                                              \
  X(OptNum, inference_only_throughput_per_s, {}, kOmit)                              \
  X(Json, e2e, nullptr, kOmit)                                                       \
  X(Json, pipeline, nullptr, kOmit)                                                  \
  /* how it was measured and where */                                                \
  X(Json, settings, Json::object(), kRequired)                                       \
  X(Json, versions, Json::object(), kRequired)                                       \
  X(Json, host, Json::object(), kRequired)                                           \
  X(std::string, command, {}, kRequired)

// latency_ms: per query (docs/results-schema.md), src/measure/stats.h percentiles.
struct LatencyMs {
  OptNum p50, p90, p95, p99, p999, mean, min, max;
};

struct Row {
#define OPTIC_ROW_MEMBER(type, name, init, rules) type name = init;
  OPTIC_RESULT_ROW_FIELDS(OPTIC_ROW_MEMBER)
#undef OPTIC_ROW_MEMBER
  LatencyMs latency_ms;
  // latency_percentiles_valid: tails from too few samples (measure::kMinSamplesP90 / P99 / P999).
  bool p90_valid = true, p99_valid = true, p999_valid = true;
  OptNum load_cold_s, load_cached_s;                      // load_s.cold, load_s.cached
  std::vector<std::pair<std::string, double>> stages_ms;  // empty: not written

  // Where a row read from a file came from (not written).
  std::string file;
  int line = 0;
  // Set by results::CollapseRepeats on a row that stands for several ok repeats of one cell: how
  // many, and max/min of their throughputs (not written).
  int repeats_aggregated = 1;
  OptNum repeat_spread;

  bool ok() const { return status == "ok"; }
  bool unstable() const { return stable.has_value() && !*stable; }
  // Out of the parity limits of its precision: such a row is never recommended.
  bool parity_failed() const { return parity_pass.has_value() && !*parity_pass; }
  // This row's run of its cell and how many runs the sweep asked for (1 and 1 when not said).
  int repeat_index() const { return repeat.value_or(1); }
  int repeat_count() const { return repeats.value_or(1); }
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
  // Fills latency_ms, latency_percentiles_valid and samples from a summary in milliseconds.
  template <class Summary>
  void SetLatency(const Summary& s) {
    if (s.count == 0) return;
    latency_ms = {s.p50, s.p90, s.p95, s.p99, s.p999, s.mean, s.min, s.max};
    p90_valid = s.p90_valid, p99_valid = s.p99_valid, p999_valid = s.p999_valid;
    samples = static_cast<int64_t>(s.count);
  }
};

// The row as one JSON object (schema kSchemaVersion).
nlohmann::json ToJson(const Row& row);
// One line of a results file: ToJson, compact, invalid UTF-8 replaced, no newline.
std::string ToLine(const Row& row);

enum class ReadMode {
  // The report's reading: kKey fields, the types of those present, status and batch size; older
  // files lacking other fields stay readable (validity judged from samples).
  kLenient,
  // A row as this optic writes it: also every kRequired field and Validate.
  kStrict,
};
// Reads `o` into *out. kInvalidArgument names the offending field; a schema version other than
// kSchemaVersion is kUnsupported. Fields this optic does not know are ignored.
Status FromJson(const nlohmann::json& o, ReadMode mode, Row* out);
// Parses one JSON line (no trailing newline) with FromJson.
Status ParseLine(const std::string& text, ReadMode mode, Row* out);
// The checks beyond types: enums in range, ok rows with their measurements, the rules between
// fields (docs/results-schema.md). Empty string = valid.
std::string Validate(const Row& row);

// A line of a file that could not be read as a row.
struct LineError {
  int line = 0;
  Status status;
};
// Reads every row of a .jsonl file with FromJson (rows get file and line). A line that is not a
// row is skipped into *errors (may be null); an unsupported schema version or an unreadable file
// is the returned error, naming the file (and line).
Status ReadFile(const std::string& path, ReadMode mode, std::vector<Row>* rows,
                std::vector<LineError>* errors);

class ResultsWriter {
 public:
  ResultsWriter() = default;
  ~ResultsWriter();
  ResultsWriter(const ResultsWriter&) = delete;
  ResultsWriter& operator=(const ResultsWriter&) = delete;
  // Opens (creating) `path` for appending; creates its parent directory.
  Status Open(const std::string& path);
  // Validates `row` (a row that does not match the schema is kInvalidArgument and not written),
  // then appends it as one line.
  Status Append(const Row& row);
  // A row built as a JSON object: read with FromJson (strict), then appended as above.
  Status Append(const nlohmann::json& row);

 private:
  int fd_ = -1;
  std::string path_;
};

// A string member of a free-form object (host, versions), or `fallback` when the object, the
// member or its string type is missing: producers write null for what they could not find.
std::string JsonString(const nlohmann::json& object, const char* key, const std::string& fallback = "");

}  // namespace optic::results
