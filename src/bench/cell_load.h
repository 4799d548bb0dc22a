// Internal to the cell runner: loading a cell's model with the cold and cached load timed, and
// the co-located ensemble cell. Runs in the child process.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/cell.h"
#include "optic/backend.h"

namespace optic::bench {

struct LoadedModel {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Model> model;
  Capabilities caps;
  std::string file;
  double cold_s = -1;    // <0: not measured
  double cached_s = -1;
  std::string cache_note;  // why cached_s is absent
};

// The model file for `model_name` ("null": an empty file with the backend's first extension,
// created in the cell's work dir), then a cold load with a fresh cache dir and, where the backend
// has a model cache, a second (cached) load that is kept.
Status LoadWithPhases(const CellSpec& cell, const std::string& model_name, CellReporter* rep,
                      LoadedModel* out);
// The row's load_s from a load (null where not measured).
void SetLoadTimes(const LoadedModel& loaded, results::Row* row);

// Loads the members side by side, measures them run one after another and concurrently (one
// thread per member), outputs averaged. On success *rows (the cell's row on entry) becomes two
// rows, mode sequential and concurrent, each with its own steady state's meters.
Status RunEnsembleCell(const CellSpec& cell, CellReporter* rep, std::vector<results::Row>* rows);

}  // namespace optic::bench
