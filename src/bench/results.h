// Result rows (docs/results-schema.md): the skeleton every row starts from, the schema checker,
// and the append-safe .jsonl writer and reader.
//
// Durability: ResultsWriter::Append writes each row as one complete line with a single write()
// on an O_APPEND descriptor and fsyncs it, so a sweep killed at any moment leaves only whole rows
// (a torn last line is possible only if the machine loses power; the reader skips it and says so).
// Threading: one writer per file per process; rows are appended from the sweep's thread.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/config.h"
#include "bench/stats.h"
#include "measure/stats.h"

namespace optic::bench {

inline constexpr int kSchemaVersion = 1;

// What is common to all rows of one sweep.
struct RunInfo {
  std::string run_id;
  std::string command;
  nlohmann::json versions = nlohmann::json::object();
  nlohmann::json host = nlohmann::json::object();
};

// A row for `cell` with every required field present: identity filled in, measurements null,
// status "failed" with error "not run" until the cell fills them.
nlohmann::json RowSkeleton(const CellSpec& cell, const RunInfo& run);

// Fills latency_ms, latency_percentiles_valid and samples from a summary (milliseconds).
void SetLatency(const measure::Summary& s, nlohmann::json* row);

// Checks one row against schema v1: every required field present with the right type, enums in
// range, and for status "ok" the measurements an ok row must have. Empty string = valid.
std::string ValidateRow(const nlohmann::json& row);

struct FileCheck {
  int rows = 0;
  std::vector<std::string> errors;  // "line 3: <what>"
};
// Validates every line of a .jsonl file. Fails only when the file cannot be read.
Status ValidateFile(const std::string& path, FileCheck* out);

class ResultsWriter {
 public:
  ResultsWriter() = default;
  ~ResultsWriter();
  ResultsWriter(const ResultsWriter&) = delete;
  ResultsWriter& operator=(const ResultsWriter&) = delete;
  // Opens (creating) `path` for appending; creates its parent directory.
  Status Open(const std::string& path);
  Status Append(const nlohmann::json& row);

 private:
  int fd_ = -1;
  std::string path_;
};

// Reads the rows of a .jsonl file (a missing file is no rows). Lines that do not parse are
// counted in *bad_lines (e.g. a torn last line) and skipped.
Status ReadRows(const std::string& path, std::vector<nlohmann::json>* rows, int* bad_lines);

}  // namespace optic::bench
