#include "bench/results.h"

#include "host/manifest.h"

namespace optic::bench {

results::Row CellRow(const CellSpec& c) {
  results::Row r;
  r.kind = c.kind == CellKind::kEnsemble ? "ensemble" : c.kind == CellKind::kE2E ? "e2e" : "bench";
  r.cell_id = c.CellId();
  r.timestamp = host::UtcTimestamp();
  r.model = c.model;
  r.backend = c.backend;
  r.device = DeviceName(c.device);
  r.precision = PrecisionName(c.precision);
  r.batch_size = c.batch_size;
  r.threads = c.threads;
  r.scenario = ScenarioName(c.scenario);
  r.status = "failed";
  r.error = "not run";
  r.samples = 0;
  r.stable = false;
  r.parity_reference = c.reference_name;
  r.settings = SettingsToJson(c.settings);
  r.settings["backend_options"] = c.backend_options;
  // Where the model came from: a user's file (zoo models: empty), and the converter that made
  // the file this backend loaded (empty when it reads the source natively).
  r.source_file = c.source_file;
  r.source_sha256 = c.source_sha256;
  r.converted_by = c.converted_by;
  r.input_data = c.inputs.data_file;
  if (c.kind == CellKind::kEnsemble) r.ensemble = {{"members", c.members}};
  if (c.kind == CellKind::kE2E) {
    r.image_class = c.image_class;
    r.preprocess = c.preprocess;
  }
  return r;
}

void SetRun(const RunInfo& run, results::Row* row) {
  row->run_id = run.run_id;
  row->command = run.command;
  row->versions = run.versions;
  row->host = run.host;
  row->timestamp = host::UtcTimestamp();
}

results::Row RowFor(const CellSpec& cell, const RunInfo& run) {
  results::Row r = CellRow(cell);
  SetRun(run, &r);
  return r;
}

}  // namespace optic::bench
