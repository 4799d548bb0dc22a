// Results files into the reports' row sets: results::ReadFile (results/row.h), then one row per
// cell and host.
#include "report/results.h"

#include <map>

namespace optic::report {

Status LoadResultsFile(const std::string& path, const LoadOptions& options, ResultsSet* set) {
  std::vector<Row> read;
  std::vector<results::LineError> errors;
  OPTIC_RETURN_IF_ERROR(results::ReadFile(path, results::ReadMode::kLenient, &read, &errors));
  if (options.strict && !errors.empty()) {
    const results::LineError& e = errors.front();
    return Status(e.status.code(), path + ":" + std::to_string(e.line) + ": " + e.status.message());
  }
  for (const results::LineError& e : errors) {
    set->warnings.push_back({path, e.line, "skipped malformed line: " + e.status.message()});
  }
  std::vector<Row> rows;
  std::map<std::string, size_t> index;  // (host, match key) -> position in rows
  int superseded = 0;
  for (Row& row : read) {
    // cell_id does not name the backend options, so rows of two configurations (files joined
    // with cat) are two cells, not a re-run of one.
    // Repeats of one cell (optic bench --repeat) are not re-runs: each index keeps its own row.
    std::string key =
        JsonString(row.host, "hostname") + "\n" + row.MatchKey() + "\n" + row.OptionsLabel();
    if (row.repeat_index() > 1) key += "\n#" + std::to_string(row.repeat_index());
    auto [it, inserted] = index.emplace(key, rows.size());
    if (inserted) {
      rows.push_back(std::move(row));
    } else {
      rows[it->second] = std::move(row);  // the later measurement of the same cell wins
      ++superseded;
    }
  }
  if (superseded) {
    set->warnings.push_back({path, 0, std::to_string(superseded) +
                                          " row(s) replaced by a later row of the same cell "
                                          "(resumed or repeated sweep); the later one is shown"});
  }
  if (rows.empty()) {
    set->warnings.push_back({path, 0, "no usable rows"});
  }
  set->files.push_back(path);
  for (auto& r : rows) set->rows.push_back(std::move(r));
  return Status::OK();
}

std::string LoadWarning::ToString() const {
  return line > 0 ? file + ":" + std::to_string(line) + ": " + message : file + ": " + message;
}

}  // namespace optic::report
