// One cell, run inside the child process (`optic bench-cell`): load phases, input pool, first
// inference, correctness check, warm-up, the scenario's steady state, resources. Also the
// reference cell, which writes the reference outputs a model/batch's cells compare with, and the
// co-located ensemble cell.
//
// Every kind runs through RunCellInChild and measures its steady states through MeasureSteady,
// so each row carries the same meters (host load, RAPL, NVML, device phases, memory).
// Protocol to the parent (CellReporter): lines on a file descriptor, "phase <name>" as phases
// start and "row <json>" for each finished row (results/row.h, built from CellRow; the parent
// adds the run's fields and writes it). A Status failure still produces a row (status failed/unsupported); a
// crash produces none, and the parent writes the failed row.
// Threading: runs on the child's main thread (plus the threads a scenario starts).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/config.h"
#include "bench/meters.h"
#include "bench/scenarios.h"
#include "results/row.h"

namespace optic::bench {

class CellReporter {
 public:
  explicit CellReporter(int fd) : fd_(fd) {}
  void Phase(const std::string& name);
  void Row(const results::Row& row);

 private:
  void Line(const std::string& line);
  int fd_;
};

// The one runner of every kind of cell (plain, e2e, ensemble, reference): starts from
// CellRow(cell), runs the kind, ends each row with FinishRow and reports it. Returns what the
// child should exit with (0 when a row was reported, also for a failed or unsupported cell).
int RunCellInChild(const CellSpec& cell, CellReporter* reporter);

// The steady state of every measured kind: the meter set (bench/meters.h) started around
// `loop` (which gets the meters, for the device phases of its Executes), the reporter's phase
// `phase`, then the steady-state fields (WriteSteadyResult) and the meters' readings on `row`.
using SteadyLoop = std::function<Status(SteadyMeters* meters, SteadyResult* out)>;
Status MeasureSteady(const CellSpec& cell, const std::string& phase, CellReporter* reporter,
                     results::Row* row, const SteadyLoop& loop, SteadyResult* out);

// Reference outputs: a JSON header line ({"outputs":[{"name","shape"}], ...}) followed by the
// outputs' fp32 values, in order.
Status WriteReference(const std::string& path, const std::vector<Tensor>& outputs,
                      const nlohmann::json& header);
Status ReadReference(const std::string& path, std::vector<Tensor>* outputs);

// The correctness check's samples for a batch size: kParitySamples (optic/parity.h) rounded up to
// whole batches, so that top-k agreement means something also at batch 1.
int CheckSamples(int batch_size);
// The check set (optic/parity.h MakeCheckInput from settings.check_seed) through `model` in
// batches of the cell's batch size; `outputs` are fp32 host tensors of CheckSamples rows.
Status RunCheckSet(const CellSpec& cell, Model* model, std::vector<Tensor>* outputs);

// Status code -> row status: unsupported for kUnsupported / kUnsupportedHardware, else failed.
const char* RowStatusFor(const Status& s);
// Ends a cell's row: status and error from `s`, and the process's peak resident memory.
void FinishRow(const Status& s, results::Row* row);

}  // namespace optic::bench
