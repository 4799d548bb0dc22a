#include "pipeline/rows.h"

#include <cmath>

#include "host/manifest.h"

namespace optic::pipeline {

using nlohmann::json;

namespace {

json Num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json Stages(const std::vector<FrameTiming>& t) {
  return {{"stage1", Num(Summarize(t, &FrameTiming::stage1_ms).mean)},
          {"broker", Num(Summarize(t, &FrameTiming::broker_ms).mean)},
          {"stage2", Num(Summarize(t, &FrameTiming::stage2_ms).mean)},
          {"gather", Num(Summarize(t, &FrameTiming::gather_ms).mean)}};
}

}  // namespace

results::Row PipelineRow(const RowContext& c, const CellResult& r, const std::string& error) {
  const bool ok = error.empty() && r.zero_load.frames > 0;
  const int objects = c.cell.boxes == BoxSource::kSynthetic ? c.cell.objects : r.objects_per_frame;
  results::Row row;
  row.kind = "pipeline";
  row.run_id = c.run_id;
  row.timestamp = host::UtcTimestamp();
  row.model = c.detector + "+" + c.embedder;
  row.backend = c.backend;
  row.device = c.device;
  row.precision = "fp32";
  row.batch_size = c.max_batch;
  row.threads = c.threads;
  row.scenario = "pipeline";
  row.cell_id = "pipeline:" + row.model + "|" + c.backend + "|" + c.device + "|fp32|b" + std::to_string(c.max_batch) +
                "|t" + std::to_string(c.threads) + "|pipeline|" + c.transport + "|o" + std::to_string(objects) +
                "|w" + std::to_string(c.workers) + (c.cell.boxes == BoxSource::kDetector ? "|detector" : "");
  const measure::Summary zl = Summarize(r.zero_load.timings, &FrameTiming::total_ms);
  const measure::Summary ll = Summarize(r.loaded.timings, &FrameTiming::total_ms);
  const double fps = r.loaded.wall_s > 0 ? static_cast<double>(r.loaded.frames) / r.loaded.wall_s : NAN;
  const double ops = r.loaded.wall_s > 0 ? static_cast<double>(r.loaded.objects) / r.loaded.wall_s : NAN;
  const json stages = Stages(r.zero_load.timings);
  const double broker_share = ok && zl.mean > 0 && stages["broker"].is_number()
                                  ? stages["broker"].get<double>() / zl.mean : NAN;
  row.status = ok ? "ok" : "failed";
  row.error = ok ? "" : error.empty() ? "no frame completed" : error;
  if (ok && std::isfinite(fps)) row.throughput_per_s = fps;
  row.SetLatency(zl);
  row.p90_valid = zl.p90_valid, row.p99_valid = zl.p99_valid, row.p999_valid = zl.p999_valid;
  row.samples = static_cast<int64_t>(zl.count);
  row.stable = false;
  if (ok) {
    for (const auto& [name, v] : stages.items()) {
      if (v.is_number()) row.stages_ms.emplace_back(name, v.get<double>());
    }
  }
  row.pipeline = {{"transport", c.transport}, {"broker", c.broker.empty() ? json(nullptr) : json(c.broker)},
                  {"objects_per_frame", objects},
                  {"boxes", c.cell.boxes == BoxSource::kSynthetic ? "synthetic" : "detector"},
                  {"workers", c.workers}, {"inflight", c.cell.inflight},
                  {"zero_load_frames", r.zero_load.frames}, {"loaded_frames", r.loaded.frames},
                  {"loaded_s", r.loaded.wall_s}, {"objects_per_s", Num(ops)},
                  {"loaded_latency_ms", {{"p50", Num(ll.p50)}, {"mean", Num(ll.mean)}, {"p99", Num(ll.p99)}}},
                  {"loaded_stages_ms", Stages(r.loaded.timings)},
                  {"stage2_batch_mean", {{"zero_load", r.zero_load.batch_mean}, {"loaded", r.loaded.batch_mean}}},
                  {"broker_share", Num(broker_share)}, {"duplicates", r.duplicates}, {"resent", r.resent},
                  {"bad_results", r.bad_results}, {"results_per_worker", r.workers}};
  row.settings = {{"warmup_frames", c.cell.warmup_frames}, {"latency_frames", c.cell.latency_frames},
                  {"duration_s", c.cell.duration_s}, {"inflight", c.cell.inflight},
                  {"frame_pool", c.cell.frame_pool}, {"seed", c.cell.seed}, {"timeout_s", c.cell.timeout_s},
                  {"resend_s", c.cell.resend_s}, {"max_batch", c.max_batch}};
  row.versions = host::Versions();
  row.host = host::HostManifest();
  row.command = c.command;
  return row;
}

}  // namespace optic::pipeline
