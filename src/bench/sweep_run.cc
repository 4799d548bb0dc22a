// RunSweep: the loop over planned cells (see sweep.h).
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "bench/cell.h"
#include "bench/host_load.h"
#include "bench/process.h"
#include "bench/results.h"
#include "bench/sweep.h"
#include "bench/sweep_plan.h"
#include "cache/cache.h"
#include "host/manifest.h"
#include "optic/registry.h"

namespace optic::bench {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Removes the sweep's scratch directory however RunSweep returns.
struct ScratchDir {
  std::string path;
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

class Runner {
 public:
  Runner(const SweepOptions& o, const BenchConfig& c, const Zoo* zoo, const ModelFiles* files,
         const std::string& work, Progress* p)
      : opt_(o), c_(c), zoo_(zoo), files_(files), work_(work), progress_(p) {}

  // Runs `cell` in a child; returns the rows it produced with the run's fields (those of
  // `skeleton`: run, repeat), or one failed/timeout row.
  std::vector<results::Row> Run(const CellSpec& cell, const results::Row& skeleton, ChildOutcome* outcome) {
    std::error_code ec;
    fs::create_directories(cell.work_dir, ec);
    const std::string cell_file = cell.work_dir + ".json";
    std::ofstream(cell_file) << CellToJson(cell).dump();
    // What the machine was doing as the cell started (docs/bench.md, "Contention").
    const std::optional<double> load = LoadAvg1m();
    Status s = RunCellProcess(opt_.self_exe, cell_file, cell.work_dir + ".log", cell.settings.timeout_s,
                              [&](const std::string& phase) { progress_->Phase(phase); }, outcome);
    fs::remove_all(cell.work_dir, ec);  // caches and generated files can be large
    std::vector<results::Row> rows;
    results::Row row = skeleton;
    row.timestamp = host::UtcTimestamp();
    row.loadavg_1m = load;
    if (!s.ok()) {
      row.error = "could not start the cell: " + s.ToString();
      return {row};
    }
    for (results::Row& child : outcome->rows) {
      if (child.model.empty()) {  // a child that could not read its cell reports only why
        results::Row failed = row;
        failed.status = child.status;
        failed.error = child.error;
        child = failed;
      }
      child.run_id = row.run_id;
      child.command = row.command;
      child.versions = row.versions;
      child.host = row.host;
      child.timestamp = row.timestamp;
      child.loadavg_1m = row.loadavg_1m;
      child.repeat = row.repeat;
      child.repeats = row.repeats;
      rows.push_back(std::move(child));
    }
    if (rows.empty()) {
      row.status = outcome->timed_out ? "timeout" : "failed";
      row.error = outcome->Describe();
      if (outcome->peak_rss_mb > 0) row.peak_rss_mb = outcome->peak_rss_mb;
      rows.push_back(row);
    }
    return rows;
  }

  // The reference outputs for a cell's model, batch and inputs: computed once in a reference
  // cell, kept in <out dir>/<out stem>.ref/ under a name with the hash of ReferenceKey (cell.h),
  // which the file's header repeats: another --shape, --input-range or --input-data, another
  // conversion or a file of another format is another reference. Sets cell->reference_file/name,
  // or returns why there is none.
  std::string EnsureReference(CellSpec* cell, const RunInfo& run) {
    std::string backend = PickReference(c_, zoo_, *cell, files_);
    if (backend.empty()) return "no backend can run '" + cell->model + "' at fp32 as the reference";
    const fs::path dir = fs::path(c_.out).parent_path() / (fs::path(c_.out).stem().string() + ".ref");
    CellSpec ref = *cell;
    ref.kind = CellKind::kReference;
    ref.backend = backend;
    ref.precision = Precision::kFP32;
    ref.device = c_.reference_device;
    ref.scenario = Scenario::kOffline;
    ref.model_file.clear();
    ref.converted_by.clear();
    if (files_ && files_->Has(cell->model)) {
      std::unique_ptr<Backend> b;
      if (CreateBackend(backend, &b).ok()) {
        const BackendFile& f = files_->For(cell->model, *b, Precision::kFP32);
        ref.model_file = f.path;
        ref.converted_by = f.converted_by;
      }
    }
    auto opts = c_.backend_options.find(backend);
    ref.backend_options = opts != c_.backend_options.end() ? opts->second : std::map<std::string, std::string>{};
    const json key = ReferenceKey(ref);
    // A model file is named by its stem (its path may hold '/').
    const std::string stem = cell->source_sha256.empty() ? cell->model : fs::path(cell->model).stem().string();
    const std::string file = (dir / (stem + "-" + backend + "-" + DeviceName(c_.reference_device) + "-b" +
                                     std::to_string(cell->batch_size) + "-" +
                                     cache::Sha256Hex(key.dump()).substr(0, 16) + ".ref")).string();
    const std::string name = backend + "/fp32" +
                             (c_.reference_device.is_cpu() ? "" : "@" + DeviceName(c_.reference_device));
    auto failed = failed_refs_.find(file);
    if (failed != failed_refs_.end()) return failed->second;
    std::error_code ec;
    json header;
    if (!fs::exists(file, ec) || !ReadReferenceHeader(file, &header).ok() || header.value("key", json()) != key) {
      fs::create_directories(dir, ec);
      ref.reference_file = file;
      ref.work_dir = (fs::path(work_) / ("ref" + std::to_string(refs_++))).string();
      progress_->Note("reference: " + cell->model + " b" + std::to_string(cell->batch_size) + " on " + name);
      ChildOutcome outcome;
      std::vector<results::Row> rows = Run(ref, RowFor(ref, run), &outcome);
      std::string why;
      if (rows.empty() || !rows[0].ok() || !fs::exists(file, ec)) {
        why = rows.empty() ? std::string("no row") : json(rows[0].error).dump();
      } else if (Status h = ReadReferenceHeader(file, &header); !h.ok()) {
        why = h.ToString();
      } else if (header.value("key", json()) != key) {
        why = "its file's key " + header.value("key", json()).dump() + " is not the sweep's " + key.dump();
      }
      if (!why.empty()) {
        why = "reference " + name + " failed: " + why;
        failed_refs_[file] = why;
        return why;
      }
    }
    cell->reference_file = file;
    cell->reference_name = name;
    return "";
  }

 private:
  const SweepOptions& opt_;
  const BenchConfig& c_;
  const Zoo* zoo_;
  const ModelFiles* files_;
  std::string work_;
  Progress* progress_;
  std::map<std::string, std::string> failed_refs_;
  int refs_ = 0;
};

}  // namespace

Status RunSweep(const SweepOptions& opt, Progress* progress, SweepResult* out) {
  BenchConfig c = opt.config;
  OPTIC_RETURN_IF_ERROR(ResolveDefaults(&c));
  Zoo zoo;
  std::vector<std::string> all_models = c.models;
  all_models.insert(all_models.end(), c.ensemble.begin(), c.ensemble.end());
  // Model files are described here once (in a child process: a framework that crashes on the
  // file cannot take the sweep down); their inputs must be fully set before any cell runs.
  ModelFiles files;
  for (const auto& m : c.models) {
    if (m == "null" || !LooksLikeModelFile(m) || files.Has(m)) continue;
    ModelDescription d;
    Zoo unused;
    OPTIC_RETURN_IF_ERROR(ResolveModel(m, {c.models_dir, true}, &unused, &d));
    // --input-data is read and checked here, before any cell runs; its arrays' shapes set the
    // inputs' dims (cells read the file again themselves).
    InputSettings with_data = c.inputs;
    with_data.data.clear();
    OPTIC_RETURN_IF_ERROR(LoadInputData(d.inputs, &with_data).Prefixed(m));
    c.inputs.shapes = with_data.shapes;
    std::vector<TensorInfo> concrete;
    OPTIC_RETURN_IF_ERROR(ConcreteInputs(d.inputs, c.inputs, &concrete).Prefixed(m));
    files.models[m] = std::move(d);
  }
  files.inputs = c.inputs;
  if (!c.inputs.shapes.empty() || !c.inputs.ranges.empty() || !c.inputs.data_file.empty()) {
    if (files.models.empty()) {
      return Status::InvalidArgument("--shape, --input-range and --input-data set a model file's "
                                     "inputs; none of --models is a file");
    }
  }
  const bool need_zoo = std::any_of(all_models.begin(), all_models.end(), [&](const std::string& m) {
    return m != "null" && !files.Has(m);
  });
  if (need_zoo) {
    OPTIC_RETURN_IF_ERROR(Zoo::Open(c.models_dir, &zoo));
    for (const auto& m : all_models) {
      const ZooModel* zm;
      if (m != "null" && !files.Has(m)) OPTIC_RETURN_IF_ERROR(zoo.Find(m, &zm));
    }
  }
  ScratchDir scratch;
  char tmpl[] = "/tmp/optic-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return Status::Internal("cannot create a scratch directory in /tmp");
  scratch.path = tmpl;

  std::vector<Planned> plan;
  OPTIC_RETURN_IF_ERROR(PlanCells(c, need_zoo ? &zoo : nullptr, scratch.path, &plan, &files));
  if (opt.list_only) {
    for (const auto& p : plan) {
      std::printf("%s%s\n", p.cell.CellId().c_str(),
                  p.unsupported.empty() ? "" : ("  (unsupported: " + p.unsupported + ")").c_str());
    }
    out->cells = static_cast<int>(plan.size());
    return Status::OK();
  }

  DoneRepeats done;
  std::error_code exists_ec;
  if (c.resume && fs::exists(c.out, exists_ec)) {
    std::vector<results::Row> old;
    std::vector<results::LineError> bad;
    OPTIC_RETURN_IF_ERROR(results::ReadFile(c.out, results::ReadMode::kLenient, &old, &bad));
    done = FindDoneRepeats(old);
    if (!bad.empty()) {
      progress->Note("resume: skipped " + std::to_string(bad.size()) + " unreadable line(s) in " + c.out);
    }
  }
  ResultsWriter writer;
  OPTIC_RETURN_IF_ERROR(writer.Open(c.out));
  RunInfo run{host::NewRunId(), opt.command, host::Versions(), host::HostManifest()};

  std::set<std::string> grid_ids;
  for (const auto& p : plan) {
    for (const auto& id : RowIds(p.cell)) grid_ids.insert(id);
  }
  const std::vector<Job> todo = ScheduleJobs(plan, c.repeat, done, &out->skipped);
  if (c.resume) {
    int unused = 0;
    const size_t have = ScheduleJobs(plan, c.repeat, {}, &unused).size() - todo.size();
    if (have) {
      progress->Note("resume: " + std::to_string(have) + (c.repeat > 1 ? " run(s) of cells" : " cell(s)") +
                     " already have rows");
    }
  }
  Runner runner(opt, c, need_zoo ? &zoo : nullptr, &files, scratch.path, progress);
  progress->Begin(static_cast<int>(todo.size()));
  for (size_t i = 0; i < todo.size(); ++i) {
    CellSpec& cell = todo[i].planned->cell;
    const std::string& unsupported = todo[i].planned->unsupported;
    std::string label = cell.CellId();
    if (c.repeat > 1) label += " #" + std::to_string(todo[i].repeat) + "/" + std::to_string(c.repeat);
    progress->CellStart(static_cast<int>(i), label);
    auto skeleton = [&] {
      results::Row row = RowFor(cell, run);
      row.repeat = todo[i].repeat;
      row.repeats = c.repeat;
      return row;
    };
    std::vector<results::Row> rows;
    std::string ref_error;
    if (!unsupported.empty()) {
      results::Row row = skeleton();
      row.status = "unsupported";
      row.error = unsupported;
      rows.push_back(row);
    } else {
      if (cell.kind == CellKind::kBench) ref_error = runner.EnsureReference(&cell, run);
      ChildOutcome outcome;
      rows = runner.Run(cell, skeleton(), &outcome);
    }
    for (results::Row& row : rows) {
      if (!ref_error.empty()) row.parity_error = ref_error;
      Status appended = writer.Append(row);
      if (appended.code() == StatusCode::kInvalidArgument) {
        // A cell's row that does not match the schema is a failure of that cell, not of the sweep.
        results::Row failed = skeleton();
        failed.error = appended.ToString();
        row = failed;
        appended = writer.Append(row);
      }
      OPTIC_RETURN_IF_ERROR(appended);
      const std::string& st = row.status;
      (st == "ok" ? out->ok : st == "unsupported" ? out->unsupported : st == "timeout" ? out->timeout : out->failed)++;
      progress->CellDone(row);
    }
    ++out->cells;
  }
  progress->End();
  std::vector<results::Row> all;
  OPTIC_RETURN_IF_ERROR(results::ReadFile(c.out, results::ReadMode::kLenient, &all, nullptr));
  for (results::Row& r : all) {
    if (grid_ids.count(r.cell_id)) out->rows.push_back(std::move(r));
  }
  return Status::OK();
}

}  // namespace optic::bench
