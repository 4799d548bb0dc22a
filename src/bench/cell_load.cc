#include "bench/cell_load.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "optic/registry.h"
#include "optic/zoo.h"

namespace optic::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Status ResolveFile(const CellSpec& c, const Backend& backend, const Capabilities& caps,
                   const std::string& model_name, std::string* path) {
  if (model_name == "null") {
    const std::string ext = caps.file_extensions.empty() ? ".null" : caps.file_extensions[0];
    *path = (fs::path(c.work_dir) / ("model" + ext)).string();
    std::ofstream touch(*path);
    if (!touch) return Status::Internal("cannot create the null model file '" + *path + "'");
    return Status::OK();
  }
  if (model_name == c.model && !c.source_file.empty()) {
    if (c.model_file.empty()) return Status::Internal("no file was resolved for model '" + c.model + "'");
    *path = c.model_file;
    return Status::OK();
  }
  Zoo zoo;
  OPTIC_RETURN_IF_ERROR(Zoo::Open(c.models_dir, &zoo));
  const ZooModel* m;
  OPTIC_RETURN_IF_ERROR(zoo.Find(model_name, &m));
  return zoo.FileFor(*m, backend, c.precision, path);
}

}  // namespace

Status LoadWithPhases(const CellSpec& c, const std::string& model_name, CellReporter* rep,
                      LoadedModel* out) {
  OPTIC_RETURN_IF_ERROR(CreateBackend(c.backend, &out->backend));
  Backend& backend = *out->backend;
  out->caps = backend.capabilities();
  OPTIC_RETURN_IF_ERROR(ResolveFile(c, backend, out->caps, model_name, &out->file));

  LoadOptions lo;
  lo.device = c.device;
  lo.precision = c.precision;
  lo.threads = c.threads;
  lo.batch_size = c.batch_size;
  for (const auto& [k, v] : c.backend_options) {
    OPTIC_RETURN_IF_ERROR(ParseLoadOption(backend, k + "=" + v, &lo));
  }
  // A fresh cache directory makes the first load cold for the framework's cache. "Cold" means
  // the framework optimizes from scratch, not a cold disk: the OS page cache may hold the file.
  const bool cached = out->caps.model_cache && c.kind != CellKind::kReference;
  if (cached) {
    const fs::path dir = fs::path(c.work_dir) / ("cache-" + fs::path(model_name).filename().string());
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) return Status::Internal("cannot create cache dir '" + dir.string() + "': " + ec.message());
    lo.cache_dir = dir.string();
  } else {
    out->cache_note = c.kind == CellKind::kReference ? "not measured in a reference cell"
                                                     : "backend declares no model cache";
  }
  rep->Phase("cold_load");
  auto t0 = Clock::now();
  Status load = backend.Load(out->file, lo, &out->model);
  // A user's file that a framework refuses (an operator it lacks, a construct it cannot read) is
  // a fact about the pair, not a failure of the harness.
  if (!load.ok() && !c.source_file.empty() && load.code() != StatusCode::kOutOfMemory) {
    load = Status::Unsupported(load.message());
  }
  OPTIC_RETURN_IF_ERROR(load);
  out->cold_s = SecondsSince(t0);
  if (cached) {
    out->model.reset();
    rep->Phase("cached_load");
    t0 = Clock::now();
    OPTIC_RETURN_IF_ERROR(backend.Load(out->file, lo, &out->model).Prefixed("cached load"));
    out->cached_s = SecondsSince(t0);
  }
  return Status::OK();
}

void SetLoadTimes(const LoadedModel& lm, results::Row* row) {
  if (lm.cold_s >= 0) row->load_cold_s = lm.cold_s;
  if (lm.cached_s >= 0) row->load_cached_s = lm.cached_s;
}

}  // namespace optic::bench
