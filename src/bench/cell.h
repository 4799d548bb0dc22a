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
#include "optic/parity.h"
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

// The check set's outputs: per output (in the model's order, named), each check batch's tensor
// as the model returned it, floats as fp32 and integers in their own dtype.
struct CheckOutputs {
  std::vector<std::string> names;
  std::vector<std::vector<Tensor>> parts;  // [output][check batch]
};

// The correctness check's samples for a batch size: kParitySamples (optic/parity.h) rounded up to
// whole batches, so that top-k agreement means something also at batch 1.
int CheckSamples(int batch_size);
// The check set (optic/parity.h MakeCheckInput from settings.check_seed) through `model` in
// batches of the cell's batch size: CheckSamples rows.
Status RunCheckSet(const CellSpec& cell, Model* model, CheckOutputs* outputs);

// What the reference outputs of `cell` (a reference cell: its backend, device and options) depend
// on: the model (a file by content hash), its conversion, backend, device and options, batch size,
// check seed and samples, and the inputs' --shape, --input-range and --input-data (by hash).
// The sweep names the reference file after its hash and keeps it in the file's header, so a
// reference of other shapes or values is never read for these.
inline constexpr int kReferenceFormat = 2;
nlohmann::json ReferenceKey(const CellSpec& cell);

// Reference outputs: a JSON header line ({"format": 2, "key": ReferenceKey, "outputs": [{"name",
// "dtype", "parts": [shape per check batch]}], ...}) followed by each part's values in its dtype,
// in order. A file of another format is an error that says to delete it.
Status WriteReference(const std::string& path, const CheckOutputs& outputs,
                      const nlohmann::json& header);
Status ReadReferenceHeader(const std::string& path, nlohmann::json* header);
Status ReadReference(const std::string& path, CheckOutputs* outputs,
                     nlohmann::json* header = nullptr);

// A cell's check outputs against the reference's, the worst of each measure over the outputs
// (optic/parity.h MeasureAgreement, MergeWorst; integer outputs compared exactly). An output whose
// every check batch has `batch_size` rows on both sides is joined into [samples, ...] and measured
// as one (centring and top-k over the samples); another (a detector's [boxes, 4] per image, or an
// output whose shape differs from the reference's) is compared check batch by check batch:
// batches of equal shape are measured together, and a batch whose shape differs from the
// reference's is a mismatch named in `mismatches` (a parity failure). Errors (another count of
// outputs or check batches, a float output where the reference has an integer one): nothing to
// judge.
Status CompareCheckOutputs(const CheckOutputs& out, const CheckOutputs& ref, int batch_size,
                           TensorDiff* worst, Agreement* agreement,
                           std::vector<std::string>* mismatches);

// Status code -> row status: unsupported for kUnsupported / kUnsupportedHardware, else failed.
const char* RowStatusFor(const Status& s);
// Ends a cell's row: status and error from `s`, and the process's peak resident memory.
void FinishRow(const Status& s, results::Row* row);

}  // namespace optic::bench
