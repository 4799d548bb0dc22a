// Reading results files (docs/results-schema.md) into the reports' row sets.
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
#include "results/row.h"

namespace optic::report {

// Rows are the one typed result row (results/row.h).
using Row = results::Row;
using LatencyMs = results::LatencyMs;
using results::JsonString;

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

// Appends the rows of `path` to `set`. Later rows with the same MatchKey replace earlier ones
// (a resumed or re-run sweep), with a warning.
Status LoadResultsFile(const std::string& path, const LoadOptions& options, ResultsSet* set);

}  // namespace optic::report
