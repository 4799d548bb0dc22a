#include "bench/sweep.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "bench/process.h"
#include "bench/results.h"
#include "optic/registry.h"
#include "optic/zoo.h"
#include "bench/sweep_plan.h"
#include "bench/e2e_images.h"

namespace optic::bench {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool Contains(const auto& list, const auto& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// A cell the parent can rule out from the backend's capabilities, the zoo and the model files.
std::string PreCheck(const CellSpec& c, const Backend& b, const Zoo* zoo, const ModelFiles* files) {
  const Capabilities caps = b.capabilities();
  if (!Contains(caps.devices, c.device.type)) {
    return b.name() + " does not run on " + DeviceName(c.device);
  }
  if (Status s = CheckDeviceVisible(c.device); !s.ok()) return s.message();
  if (!Contains(caps.precisions, c.precision)) {
    return b.name() + " has no " + PrecisionName(c.precision) + " on this machine";
  }
  for (const std::string& m : c.kind == CellKind::kEnsemble ? c.members : std::vector{c.model}) {
    if (m == "null") {
      if (!caps.synthetic) return "model 'null' is an empty placeholder only synthetic backends load";
      continue;
    }
    if (files && files->Has(m)) {
      const BackendFile& f = files->For(m, b, c.precision);
      if (!f.unsupported.empty()) return f.unsupported;
      continue;
    }
    if (zoo == nullptr) return "no model zoo is open";
    const ZooModel* zm;
    std::string path;
    Status s = zoo->Find(m, &zm);
    if (s.ok()) s = zoo->FileFor(*zm, b, c.precision, &path);
    if (!s.ok()) return s.ToString();
  }
  return "";
}

}  // namespace

const BackendFile& ModelFiles::For(const std::string& model, const Backend& backend,
                                   Precision precision) const {
  const std::string key = model + "|" + backend.name() + "|" + PrecisionName(precision);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    it = cache_.emplace(key, FileForBackend(models.at(model), nullptr, backend, precision, inputs)).first;
  }
  return it->second;
}

Status ResolveDefaults(BenchConfig* c) {
  // The built-in default must finish within 10 minutes on a 2-core machine with three
  // frameworks (measured: results/cpu/default-bench.jsonl): two models, two batch sizes.
  if (c->models.empty() && c->ensemble.empty()) c->models = {"mobilenet_v2", "resnet50"};
  if (c->backends.empty()) {
    for (const auto& name : BackendNames()) {
      std::unique_ptr<Backend> b;
      if (CreateBackend(name, &b).ok() && !b->capabilities().synthetic) c->backends.push_back(name);
    }
    if (c->backends.empty()) return Status::NotFound("no real backend is compiled in");
  }
  if (c->batches.empty() && c->scenarios.empty()) c->single_stream_batch1_only = true;
  if (c->batches.empty()) c->batches = kDefaultBatches;
  if (c->devices.empty()) c->devices = {Device{}};
  if (c->threads.empty()) c->threads = {0};
  for (int& t : c->threads) {
    if (t < 0) return Status::InvalidArgument("--threads: must be >= 0");
    if (t == 0) t = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  std::sort(c->threads.begin(), c->threads.end());
  c->threads.erase(std::unique(c->threads.begin(), c->threads.end()), c->threads.end());
  // An e2e-only sweep runs no plain cells.
  if (c->scenarios.empty() && !c->e2e) c->scenarios = {Scenario::kOffline, Scenario::kSingleStream};
  if (c->e2e) {
    if (c->image_classes.empty()) c->image_classes = {"small", "medium", "large"};
    if (c->preprocess.empty()) c->preprocess = {"cpu"};
    for (const auto& ic : c->image_classes) {
      ImageClassSpec spec;
      OPTIC_RETURN_IF_ERROR(ParseImageClass(ic, &spec).Prefixed("--image-class"));
    }
    for (const auto& p : c->preprocess) {
      if (p != "cpu" && p != "gpu") {
        return Status::InvalidArgument("--preprocess: unknown '" + p + "' (choose cpu, gpu)");
      }
    }
  }
  if (c->models_dir.empty()) c->models_dir = DefaultZooDir();
  for (const auto& b : c->backends) {
    std::unique_ptr<Backend> backend;
    OPTIC_RETURN_IF_ERROR(CreateBackend(b, &backend));
  }
  for (const auto& [b, opts] : c->backend_options) {
    if (!Contains(c->backends, b)) {
      return Status::InvalidArgument("--backend-option for '" + b + "', which is not in --backends");
    }
  }
  OPTIC_RETURN_IF_ERROR(ValidateBackendOptions(c->backend_options));
  if (Contains(c->scenarios, Scenario::kServerSearch) && c->settings.p99_bound_ms <= 0) {
    return Status::InvalidArgument("scenario server_search needs --p99-bound-ms");
  }
  return Status::OK();
}

// Precisions: the given list, or fp32 plus bf16 where the backend has it.
Status PlanCells(const BenchConfig& c, const Zoo* zoo, const std::string& work, std::vector<Planned>* out,
                 const ModelFiles* files) {
  auto add = [&](CellSpec cell, const Backend& b, bool defaulted_precision) {
    std::string why = PreCheck(cell, b, zoo, files);
    cell.inputs = c.inputs;
    if (files && files->Has(cell.model)) {
      const ModelDescription& m = files->models.at(cell.model);
      cell.source_file = m.source_file;
      cell.source_sha256 = m.source_sha256;
      if (why.empty()) {
        const BackendFile& f = files->For(cell.model, b, cell.precision);
        cell.model_file = f.path;
        cell.converted_by = f.converted_by;
      }
    }
    // A precision the user did not ask for is left out rather than reported unsupported.
    if (!why.empty() && defaulted_precision && cell.precision != Precision::kFP32) return;
    cell.work_dir = (fs::path(work) / ("cell" + std::to_string(out->size()))).string();
    out->push_back({std::move(cell), why});
  };
  const bool defaulted = c.precisions.empty();
  const std::vector<Precision> precisions =
      defaulted ? std::vector<Precision>{Precision::kFP32, Precision::kBF16} : c.precisions;
  for (const auto& model : c.models) {
    for (const auto& bname : c.backends) {
      std::unique_ptr<Backend> b;
      OPTIC_RETURN_IF_ERROR(CreateBackend(bname, &b));
      for (const Device& d : c.devices) for (Precision p : precisions) for (int batch : c.batches)
        for (int t : c.threads) for (Scenario s : c.scenarios) {
          if (c.single_stream_batch1_only && s == Scenario::kSingleStream && batch != 1) continue;
          CellSpec cell;
          cell.model = model;
          cell.backend = bname;
          cell.device = d;
          cell.precision = p;
          cell.batch_size = batch;
          cell.threads = t;
          cell.scenario = s;
          cell.settings = c.settings;
          cell.models_dir = c.models_dir;
          auto it = c.backend_options.find(bname);
          if (it != c.backend_options.end()) cell.backend_options = it->second;
          add(std::move(cell), *b, defaulted);
        }
    }
  }
  if (c.e2e) {
    for (const auto& model : c.models) for (const auto& bname : c.backends) {
      std::unique_ptr<Backend> b;
      OPTIC_RETURN_IF_ERROR(CreateBackend(bname, &b));
      for (const Device& d : c.devices) for (Precision p : precisions) for (int batch : c.batches)
        for (int t : c.threads) for (const auto& ic : c.image_classes) for (const auto& pp : c.preprocess) {
          CellSpec cell;
          cell.kind = CellKind::kE2E;
          cell.model = model;
          cell.backend = bname;
          cell.device = d;
          cell.precision = p;
          cell.batch_size = batch;
          cell.threads = t;
          cell.scenario = Scenario::kOffline;  // a closed loop, like offline
          cell.image_class = ic;
          cell.preprocess = pp;
          cell.settings = c.settings;
          cell.models_dir = c.models_dir;
          auto it = c.backend_options.find(bname);
          if (it != c.backend_options.end()) cell.backend_options = it->second;
          add(std::move(cell), *b, defaulted);
        }
    }
  }
  if (!c.ensemble.empty()) {
    for (const auto& bname : c.backends) {
      std::unique_ptr<Backend> b;
      OPTIC_RETURN_IF_ERROR(CreateBackend(bname, &b));
      for (const Device& d : c.devices) for (Precision p : precisions) for (int batch : c.batches)
        for (int t : c.threads) {
          CellSpec cell;
          cell.kind = CellKind::kEnsemble;
          cell.model = "ensemble";
          cell.members = c.ensemble;
          cell.backend = bname;
          cell.device = d;
          cell.precision = p;
          cell.batch_size = batch;
          cell.threads = t;
          cell.scenario = Scenario::kOffline;
          cell.settings = c.settings;
          cell.models_dir = c.models_dir;
          auto it = c.backend_options.find(bname);
          if (it != c.backend_options.end()) cell.backend_options = it->second;
          add(std::move(cell), *b, defaulted);
        }
    }
  }
  return Status::OK();
}

std::vector<std::string> RowIds(const CellSpec& c) {
  if (c.kind == CellKind::kEnsemble) return {c.CellId() + "|sequential", c.CellId() + "|concurrent"};
  return {c.CellId()};
}

DoneRepeats FindDoneRepeats(const std::vector<results::Row>& rows) {
  DoneRepeats done;
  for (const auto& r : rows) {
    if (!r.cell_id.empty()) done.insert({r.cell_id, r.repeat_index()});
  }
  return done;
}

std::vector<Job> ScheduleJobs(std::vector<Planned>& plan, int repeats, const DoneRepeats& done,
                              int* skipped) {
  std::vector<Job> jobs;
  std::vector<bool> any(plan.size(), false);
  for (int pass = 1; pass <= repeats; ++pass) {
    for (size_t i = 0; i < plan.size(); ++i) {
      if (pass > 1 && !plan[i].unsupported.empty()) continue;
      bool have = true;
      for (const auto& id : RowIds(plan[i].cell)) have = have && done.count({id, pass});
      if (have) continue;
      jobs.push_back({&plan[i], pass});
      any[i] = true;
    }
  }
  *skipped = static_cast<int>(std::count(any.begin(), any.end(), false));
  return jobs;
}

std::string PickReference(const BenchConfig& c, const Zoo* zoo, const CellSpec& cell,
                          const ModelFiles* files) {
  CellSpec probe = cell;
  probe.precision = Precision::kFP32;
  probe.device = c.reference_device;
  auto can_run = [&](const std::string& name, bool real_only) {
    std::unique_ptr<Backend> b;
    if (!CreateBackend(name, &b).ok()) return false;
    if (real_only && b->capabilities().synthetic) return false;
    const bool file = files && files->Has(cell.model);
    if (cell.model != "null" && !file && zoo == nullptr) return false;
    return PreCheck(probe, *b, zoo, files).empty();
  };
  if (!c.reference.empty()) return can_run(c.reference, false) ? c.reference : "";
  for (const auto& name : BackendNames()) {
    if (can_run(name, true)) return name;
  }
  for (const auto& name : c.backends) {
    if (can_run(name, false)) return name;
  }
  return "";
}

}  // namespace optic::bench
