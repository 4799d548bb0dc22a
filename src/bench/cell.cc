#include "bench/cell.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "bench/cell_load.h"
#include "bench/host_load.h"
#include "bench/pool.h"
#include "bench/resources.h"
#include "bench/results.h"
#include "bench/scenarios.h"
#include "optic/parity.h"
#include "optic/phase_timing.h"
#include "optic/pipelining.h"
#include "optic/registry.h"

namespace optic::bench {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

}  // namespace

int CheckSamples(int batch_size) {
  return batch_size * ((kParitySamples + batch_size - 1) / batch_size);
}

Status RunCheckSet(const CellSpec& c, Model* model, std::vector<Tensor>* outputs) {
  const int n = CheckSamples(c.batch_size), b = c.batch_size;
  InputSettings values = c.inputs;
  OPTIC_RETURN_IF_ERROR(LoadInputData(model->inputs(), &values));
  std::vector<TensorInfo> infos;
  OPTIC_RETURN_IF_ERROR(ConcreteInputs(model->inputs(), values, &infos));
  std::vector<Tensor> whole;  // per input, all n samples (fp32 or the input's integer dtype)
  for (size_t i = 0; i < infos.size(); ++i) {
    const TensorInfo& info = infos[i];
    const uint64_t seed = c.settings.check_seed * 1000003ULL + i;
    Tensor t;
    const bool is_float = info.dtype == DType::kFP32 || info.dtype == DType::kFP16 || info.dtype == DType::kBF16;
    if (is_float && !values.ranges.count(info.name) && !values.data.count(info.name)) {
      OPTIC_RETURN_IF_ERROR(MakeCheckInput(info, n, seed, &t));
    } else {
      OPTIC_RETURN_IF_ERROR(MakeInputValues(info, n, values, seed, &t));
    }
    whole.push_back(t);
  }
  std::vector<std::vector<Tensor>> chunks;
  for (int start = 0; start < n; start += b) {
    std::vector<Tensor> in, out;
    for (size_t i = 0; i < whole.size(); ++i) {
      Tensor view, owned;
      OPTIC_RETURN_IF_ERROR(whole[i].Slice(start, start + b, &view));
      OPTIC_RETURN_IF_ERROR(view.ConvertTo(infos[i].dtype, &owned));
      in.push_back(owned);
    }
    OPTIC_RETURN_IF_ERROR(model->Execute(in, &out).Prefixed("check batch"));
    for (Tensor& t : out) {
      Tensor f;
      OPTIC_RETURN_IF_ERROR(t.ConvertTo(DType::kFP32, &f));
      if (!f.is_host()) return Status::Internal("check batch: the model returned a device tensor");
      t = f;
    }
    chunks.push_back(std::move(out));
  }
  outputs->clear();
  for (size_t o = 0; o < chunks[0].size(); ++o) {
    Shape shape = chunks[0][o].shape();
    if (shape.empty() || shape[0] != b) {
      return Status::InvalidArgument("check batch: output " + std::to_string(o) + " has shape " +
                                     ShapeToString(shape) + ", not " + std::to_string(b) + " rows");
    }
    shape[0] = n;
    Tensor all;
    OPTIC_RETURN_IF_ERROR(Tensor::Empty(DType::kFP32, shape, &all));
    for (size_t k = 0; k < chunks.size(); ++k) {
      std::memcpy(static_cast<char*>(all.raw()) + k * chunks[k][o].nbytes(), chunks[k][o].raw(),
                  chunks[k][o].nbytes());
    }
    outputs->push_back(all);
  }
  return Status::OK();
}

namespace {

// Compares the check set's outputs with the reference file and judges them against the
// precision's limits (optic/parity.h); or parity_error when there is nothing to compare with
// (that does not fail the cell).
void CheckCorrectness(const CellSpec& c, Model* model, results::Row* row) {
  std::vector<Tensor> outputs, ref;
  Status s = RunCheckSet(c, model, &outputs);
  if (s.ok() && c.reference_file.empty()) s = Status::NotFound("no reference backend could run");
  if (s.ok()) s = ReadReference(c.reference_file, &ref);
  if (s.ok() && ref.size() != outputs.size()) {
    s = Status::InvalidArgument("the reference has " + std::to_string(ref.size()) +
                                " outputs, this model " + std::to_string(outputs.size()));
  }
  TensorDiff worst;
  Agreement agree;
  for (size_t i = 0; s.ok() && i < outputs.size(); ++i) {
    TensorDiff d;
    Agreement a;
    s = MeasureAgreement(outputs[i], ref[i], &d, &a);
    if (s.ok()) MergeWorst(d, a, &worst, &agree);
  }
  if (!s.ok()) {
    row->parity_error = s.ToString();
    return;
  }
  row->max_abs_err = worst.max_abs;
  row->max_rel_err = worst.max_rel;
  row->rel_l2_err = worst.rel_l2;
  row->nonfinite_outputs = worst.nan_count;
  row->cosine_similarity = agree.cosine;
  if (agree.class_scores) row->top1_agreement = agree.top1, row->top5_agreement = agree.top5;
  row->parity_samples = agree.samples;
  row->parity_failure = ParityFailure(c.precision, worst, agree);
  row->parity_pass = row->parity_failure.empty();
}

Status RunMeasure(const CellSpec& c, CellReporter* rep, results::Row* row) {
  json& settings = row->settings;
  LoadedModel lm;
  Status load = LoadWithPhases(c, c.model, rep, &lm);
  SetLoadTimes(lm, row);
  settings["model_file"] = lm.file;
  if (!lm.cache_note.empty()) settings["cached_load"] = lm.cache_note;
  OPTIC_RETURN_IF_ERROR(load);
  Model* model = lm.model.get();

  rep->Phase("inputs");
  // Accelerator models with optic/pipelining.h: page-locked pool (unless --pageable-inputs) and,
  // offline, several batches in flight (unless --pipeline-depth 1).
  auto* pipelined = c.device.is_cpu() ? nullptr : dynamic_cast<PipelinedExecution*>(model);
  int depth = 1;
  if (pipelined && c.scenario == Scenario::kOffline) {
    depth = pipelined->max_in_flight();
    if (c.settings.pipeline_depth > 0) depth = std::min(depth, c.settings.pipeline_depth);
  }
  const bool pinned = pipelined && c.settings.pinned_inputs == 1;
  if (pipelined) {
    settings["pipeline_depth"] = depth;
    settings["pinned_inputs"] = pinned;
  }
  InputSettings values = c.inputs;
  OPTIC_RETURN_IF_ERROR(LoadInputData(model->inputs(), &values));
  std::vector<TensorInfo> infos;
  OPTIC_RETURN_IF_ERROR(ConcreteInputs(model->inputs(), values, &infos));
  json& shapes = row->input_shapes = json::object();
  for (const TensorInfo& info : infos) {
    Shape shape = info.shape;
    if (!shape.empty()) shape[0] = c.batch_size;  // as the pool feeds it
    shapes[info.name] = {{"dtype", DTypeName(info.dtype)}, {"shape", shape}};
  }
  InputPool pool;
  OPTIC_RETURN_IF_ERROR(InputPool::Make(infos, c.batch_size, c.settings, &pool,
                                        pinned ? pipelined : nullptr, values));
  settings["pool_batches"] = pool.size();
  settings["pool_mb"] = static_cast<double>(pool.bytes()) / (1 << 20);

  rep->Phase("first_inference");
  std::vector<Tensor> outputs;
  auto t0 = Clock::now();
  OPTIC_RETURN_IF_ERROR(model->Execute(pool.batch(0), &outputs).Prefixed("first inference"));
  row->first_inference_ms = MsSince(t0);

  rep->Phase("check");
  CheckCorrectness(c, model, row);

  rep->Phase("warmup");
  // Models that time their device phases (optic/phase_timing.h) get means over the steady state.
  struct {
    double h2d = 0, compute = 0, d2h = 0, bridge = 0;
    int64_t count = 0, bridged = 0;
    bool on = false;
  } phases;
  auto record = [&](const ExecutePhases& p) {  // steady state only
    if (!phases.on || p.compute_ms < 0) return;
    phases.h2d += p.h2d_ms;
    phases.compute += p.compute_ms;
    phases.d2h += p.d2h_ms;
    ++phases.count;
    if (p.bridge_ms >= 0) phases.bridge += p.bridge_ms, ++phases.bridged;
  };
  const auto* timed = dynamic_cast<const PhaseReporting*>(model);
  QueryFn query = [&](int64_t i) {
    Status st = model->Execute(pool.batch(i + 1), &outputs);
    ExecutePhases p;
    if (st.ok() && timed && timed->LastPhases(&p)) record(p);
    return st;
  };
  int64_t warm_runs = 0;
  double warm_mean_ms = 0;
  t0 = Clock::now();
  OPTIC_RETURN_IF_ERROR(Warmup(query, c.settings, &warm_runs, &warm_mean_ms));
  row->phases = {{"warmup_runs", warm_runs}, {"warmup_ms", MsSince(t0)}};
  const double capacity_qps = warm_mean_ms > 0 ? c.batch_size * 1e3 / warm_mean_ms : 0;

  RaplMeter rapl = RaplMeter::Open();
  std::string gpu_reason;
  auto gpu = CreateGpuMonitor(c.device, &gpu_reason);
  if (!rapl.available()) settings["rapl"] = "unavailable: " + rapl.reason();
  if (!gpu && !c.device.is_cpu()) settings["gpu_monitor"] = "unavailable: " + gpu_reason;
  rep->Phase("steady");
  HostLoadMeter host_load;
  host_load.Start();
  rapl.Start();
  if (gpu) gpu->Start();
  phases.on = true;
  SteadyResult r;
  const bool dynamic = lm.caps.dynamic_batch && !model->inputs().empty() &&
                       !model->inputs()[0].shape.empty() && model->inputs()[0].shape[0] < 0;
  switch (c.scenario) {
    case Scenario::kOffline:
      if (depth > 1) {
        SubmitFn submit = [&](int64_t i) { return pipelined->Submit(pool.batch(i + 1)); };
        CollectFn collect = [&]() {
          ExecutePhases p;
          OPTIC_RETURN_IF_ERROR(pipelined->Collect(&outputs, &p));
          record(p);
          return Status::OK();
        };
        OPTIC_RETURN_IF_ERROR(RunPipelinedLoop(submit, collect, depth, c.batch_size, c.settings, &r));
        break;
      }
      [[fallthrough]];
    case Scenario::kSingleStream:
      OPTIC_RETURN_IF_ERROR(RunClosedLoop(query, c.batch_size, c.settings, &r));
      break;
    case Scenario::kServer: {
      const double qps = c.settings.qps > 0 ? c.settings.qps : capacity_qps / 2;
      settings["qps_source"] = c.settings.qps > 0 ? "given" : "half the warm-up capacity";
      OPTIC_RETURN_IF_ERROR(RunServer(model, pool, c.batch_size, dynamic, qps, c.settings, &r));
      break;
    }
    case Scenario::kServerSearch:
      OPTIC_RETURN_IF_ERROR(SearchServer(model, pool, c.batch_size, dynamic, capacity_qps, c.settings, &r));
      break;
  }
  const double joules = rapl.Stop();
  GpuSample g;
  if (gpu) g = gpu->Stop();
  WriteHostLoad(host_load.Stop(), row);

  WriteSteadyResult(r, row);
  if (rapl.available() && r.samples > 0) row->cpu_energy_j_per_inference = joules / r.samples;
  if (g.mem_peak_mb >= 0) row->gpu_mem_peak_mb = g.mem_peak_mb;
  if (g.power_w >= 0) row->power_w = g.power_w;
  if (g.energy_j >= 0 && r.samples > 0) row->energy_j_per_inference = g.energy_j / r.samples;
  if (g.util_pct >= 0) row->gpu_util_pct = g.util_pct;
  if (g.sm_clock_mhz >= 0) row->gpu_sm_clock_mhz = g.sm_clock_mhz;
  if (g.temperature_c >= 0) row->gpu_temperature_c = g.temperature_c;
  if (!g.mem_scope.empty()) settings["gpu_mem_scope"] = g.mem_scope;
  if (phases.count > 0) {
    row->device_phases_ms = {{"h2d", phases.h2d / phases.count},
                                  {"compute", phases.compute / phases.count},
                                  {"d2h", phases.d2h / phases.count}};
  }
  // A language bridge's per-call cost (the xla backend's embedded Python), steady-state mean.
  if (phases.bridged > 0) row->bridge_overhead_ms = phases.bridge / phases.bridged;
  return Status::OK();
}

// The reference cell: the check batch through the reference backend, saved for the cells.
Status RunReferenceCell(const CellSpec& c, CellReporter* rep) {
  LoadedModel lm;
  CellSpec plain = c;
  OPTIC_RETURN_IF_ERROR(LoadWithPhases(plain, c.model, rep, &lm));
  rep->Phase("reference");
  std::vector<Tensor> outputs;
  OPTIC_RETURN_IF_ERROR(RunCheckSet(c, lm.model.get(), &outputs).Prefixed("reference run"));
  return WriteReference(c.reference_file, outputs,
                        {{"backend", c.backend}, {"model", c.model}, {"batch_size", c.batch_size},
                         {"check_seed", c.settings.check_seed},
                         {"samples", CheckSamples(c.batch_size)}});
}

}  // namespace

int RunCellInChild(const CellSpec& c, CellReporter* rep) {
  results::Row row = CellRow(c);
  Status s;
  if (c.kind == CellKind::kReference) s = RunReferenceCell(c, rep);
  else if (c.kind == CellKind::kEnsemble) s = RunEnsembleCell(c, rep, &row);
  else s = RunMeasure(c, rep, &row);
  if (c.kind == CellKind::kEnsemble && s.ok()) return 0;  // it reported its own rows
  FinishRow(s, &row);
  rep->Row(row);
  return 0;
}

}  // namespace optic::bench
