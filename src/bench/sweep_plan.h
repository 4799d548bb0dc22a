// Internal to the sweep: expanding the grid into cells and choosing the reference backend.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "results/row.h"

#include <nlohmann/json.hpp>

#include "bench/config.h"
#include "optic/model_source.h"
#include "optic/zoo.h"

namespace optic::bench {

struct Planned {
  CellSpec cell;
  std::string unsupported;  // non-empty: known without running (capabilities, missing file)
};

// The sweep's model files (models given as paths), described once in the parent, and the file
// each (model, backend, precision) loads, asked once (a conversion runs at most once).
class ModelFiles {
 public:
  std::map<std::string, ModelDescription> models;  // by the name the user gave
  InputSettings inputs;  // --shape: the sizes a conversion traces at
  bool Has(const std::string& model) const { return models.count(model) > 0; }
  const BackendFile& For(const std::string& model, const Backend& backend, Precision precision) const;

 private:
  mutable std::map<std::string, BackendFile> cache_;
};

// Expands the (resolved) config into cells, in order model, backend, device, precision, batch,
// threads, scenario; ensemble cells last. `zoo` may be null when only model "null" and files
// are used; `files` may be null when no model is a file.
Status PlanCells(const BenchConfig& c, const Zoo* zoo, const std::string& work_dir,
                 std::vector<Planned>* out, const ModelFiles* files = nullptr);

// The reference backend for `cell`'s model: config.reference, else the first real backend in
// registry order that can run the model at fp32 on the CPU, else the first of the sweep's
// backends that can; "" when none can.
std::string PickReference(const BenchConfig& c, const Zoo* zoo, const CellSpec& cell,
                          const ModelFiles* files = nullptr);

// The cell_ids of the rows `cell` writes: one, or an ensemble's sequential and concurrent rows.
std::vector<std::string> RowIds(const CellSpec& cell);

// Resume: the (cell_id, repeat) pairs that already have a row, any status. A row without
// `repeat` (written before repeats existed, or by --repeat 1) counts as repeat 1.
using DoneRepeats = std::set<std::pair<std::string, int>>;
DoneRepeats FindDoneRepeats(const std::vector<results::Row>& rows);

// One child process to run: a planned cell and its 1-based repeat index.
struct Job {
  Planned* planned = nullptr;
  int repeat = 1;
};
// The sweep's jobs, interleaved: pass 1 holds every cell once, pass 2 every cell again, up to
// `repeats` passes, so a slow drift of the machine (thermal, other tenants) lands on every cell
// alike instead of on the last cells. A cell known unsupported gets pass 1 only (its row says
// why; running it again would say the same). A (cell, pass) whose row ids all have a row in
// `done` is left out; *skipped counts the cells with nothing left to run.
std::vector<Job> ScheduleJobs(std::vector<Planned>& plan, int repeats, const DoneRepeats& done,
                              int* skipped);

}  // namespace optic::bench
