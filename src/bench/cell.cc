#include "bench/cell.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "bench/cell_load.h"
#include "bench/e2e_cell.h"
#include "bench/meters.h"
#include "bench/pool.h"
#include "bench/resources.h"
#include "bench/results.h"
#include "bench/scenarios.h"
#include "optic/parity.h"
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

Status RunCheckSet(const CellSpec& c, Model* model, CheckOutputs* outputs) {
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
  CheckOutputs result;
  for (const TensorInfo& info : model->outputs()) result.names.push_back(info.name);
  for (int start = 0; start < n; start += b) {
    std::vector<Tensor> in, out;
    for (size_t i = 0; i < whole.size(); ++i) {
      Tensor view, owned;
      OPTIC_RETURN_IF_ERROR(whole[i].Slice(start, start + b, &view));
      OPTIC_RETURN_IF_ERROR(view.ConvertTo(infos[i].dtype, &owned));
      in.push_back(owned);
    }
    OPTIC_RETURN_IF_ERROR(model->Execute(in, &out).Prefixed("check batch"));
    if (start == 0) result.parts.resize(out.size());
    if (out.size() != result.parts.size()) {
      return Status::Internal("check batch: the model returned " + std::to_string(out.size()) +
                              " outputs, " + std::to_string(result.parts.size()) + " before");
    }
    for (size_t o = 0; o < out.size(); ++o) {
      const Tensor& t = out[o];
      if (!t.is_host()) return Status::Internal("check batch: the model returned a device tensor");
      const DType d = t.dtype();
      // Floats as fp32 (the measures' dtype); integers as they are, compared exactly. A copy
      // either way: a backend may reuse its output buffers on the next Execute.
      Tensor kept;
      OPTIC_RETURN_IF_ERROR(t.ConvertTo(d == DType::kFP16 || d == DType::kBF16 ? DType::kFP32 : d, &kept));
      result.parts[o].push_back(kept);
    }
  }
  if (result.names.size() != result.parts.size()) result.names.resize(result.parts.size());
  *outputs = std::move(result);
  return Status::OK();
}

namespace {

// Compares the check set's outputs with the reference file and judges them against the
// precision's limits (optic/parity.h); or parity_error when there is nothing to compare with
// (that does not fail the cell).
void CheckCorrectness(const CellSpec& c, Model* model, results::Row* row) {
  CheckOutputs outputs, ref;
  Status s = RunCheckSet(c, model, &outputs);
  if (s.ok() && c.reference_file.empty()) s = Status::NotFound("no reference backend could run");
  if (s.ok()) s = ReadReference(c.reference_file, &ref);
  TensorDiff worst;
  Agreement agree;
  std::vector<std::string> mismatches;
  if (s.ok()) s = CompareCheckOutputs(outputs, ref, c.batch_size, &worst, &agree, &mismatches);
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
  for (const std::string& m : mismatches) {
    row->parity_failure += (row->parity_failure.empty() ? "" : "; ") + m;
  }
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
  // Warm-up runs unmetered; the steady state's meters count from their Start.
  SteadyMeters* meters = nullptr;
  QueryFn query = [&](int64_t i) {
    Status st = model->Execute(pool.batch(i + 1), &outputs);
    if (st.ok() && meters) meters->Observe(model);
    return st;
  };
  int64_t warm_runs = 0;
  double warm_mean_ms = 0;
  t0 = Clock::now();
  OPTIC_RETURN_IF_ERROR(Warmup(query, c.settings, &warm_runs, &warm_mean_ms));
  row->phases = {{"warmup_runs", warm_runs}, {"warmup_ms", MsSince(t0)}};
  const double capacity_qps = warm_mean_ms > 0 ? c.batch_size * 1e3 / warm_mean_ms : 0;

  const bool dynamic = lm.caps.dynamic_batch && !model->inputs().empty() &&
                       !model->inputs()[0].shape.empty() && model->inputs()[0].shape[0] < 0;
  SteadyResult r;
  return MeasureSteady(c, "steady", rep, row, [&](SteadyMeters* m, SteadyResult* out) -> Status {
    meters = m;
    switch (c.scenario) {
      case Scenario::kOffline:
        if (depth > 1) {
          SubmitFn submit = [&](int64_t i) { return pipelined->Submit(pool.batch(i + 1)); };
          CollectFn collect = [&]() {
            ExecutePhases p;
            OPTIC_RETURN_IF_ERROR(pipelined->Collect(&outputs, &p));
            m->Record(p);
            return Status::OK();
          };
          return RunPipelinedLoop(submit, collect, depth, c.batch_size, c.settings, out);
        }
        [[fallthrough]];
      case Scenario::kSingleStream:
        return RunClosedLoop(query, c.batch_size, c.settings, out);
      case Scenario::kServer: {
        const double qps = c.settings.qps > 0 ? c.settings.qps : capacity_qps / 2;
        settings["qps_source"] = c.settings.qps > 0 ? "given" : "half the warm-up capacity";
        return RunServer(model, pool, c.batch_size, dynamic, qps, c.settings, out);
      }
      case Scenario::kServerSearch:
        return SearchServer(model, pool, c.batch_size, dynamic, capacity_qps, c.settings, out);
    }
    return Status::Internal("unknown scenario");
  }, &r);
}

// The reference cell: the check batch through the reference backend, saved for the cells.
Status RunReferenceCell(const CellSpec& c, CellReporter* rep) {
  LoadedModel lm;
  CellSpec plain = c;
  OPTIC_RETURN_IF_ERROR(LoadWithPhases(plain, c.model, rep, &lm));
  rep->Phase("reference");
  CheckOutputs outputs;
  OPTIC_RETURN_IF_ERROR(RunCheckSet(c, lm.model.get(), &outputs).Prefixed("reference run"));
  return WriteReference(c.reference_file, outputs, {{"key", ReferenceKey(c)}, {"model", c.model}});
}

}  // namespace

Status MeasureSteady(const CellSpec& c, const std::string& phase, CellReporter* rep,
                     results::Row* row, const SteadyLoop& loop, SteadyResult* r) {
  SteadyMeters meters(c.device, row);
  rep->Phase(phase);
  meters.Start();
  Status s = loop(&meters, r);
  meters.Stop();
  OPTIC_RETURN_IF_ERROR(s);
  WriteSteadyResult(*r, row);
  meters.Write(r->samples, row);
  return Status::OK();
}

int RunCellInChild(const CellSpec& c, CellReporter* rep) {
  std::vector<results::Row> rows{CellRow(c)};
  Status s;
  switch (c.kind) {
    case CellKind::kReference: s = RunReferenceCell(c, rep); break;
    case CellKind::kEnsemble: s = RunEnsembleCell(c, rep, &rows); break;
    case CellKind::kE2E: s = RunE2ECell(c, rep, &rows[0]); break;
    case CellKind::kBench: s = RunMeasure(c, rep, &rows[0]); break;
  }
  for (results::Row& row : rows) {
    FinishRow(s, &row);
    rep->Row(row);
  }
  return 0;
}

}  // namespace optic::bench
