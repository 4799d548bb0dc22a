#include "pipeline/rows.h"

#include <cmath>

#include "bench/manifest.h"

namespace optic::pipeline {

using nlohmann::json;

namespace {

json Num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json Latency(const measure::Summary& l) {
  return {{"p50", Num(l.p50)}, {"p90", Num(l.p90)}, {"p95", Num(l.p95)}, {"p99", Num(l.p99)},
          {"p999", Num(l.p999)}, {"mean", Num(l.mean)}, {"min", Num(l.min)}, {"max", Num(l.max)}};
}

json Stages(const std::vector<FrameTiming>& t) {
  return {{"stage1", Num(Summarize(t, &FrameTiming::stage1_ms).mean)},
          {"broker", Num(Summarize(t, &FrameTiming::broker_ms).mean)},
          {"stage2", Num(Summarize(t, &FrameTiming::stage2_ms).mean)},
          {"gather", Num(Summarize(t, &FrameTiming::gather_ms).mean)}};
}

}  // namespace

json PipelineRow(const RowContext& c, const CellResult& r, const std::string& error) {
  const bool ok = error.empty() && r.zero_load.frames > 0;
  const int objects = c.cell.boxes == BoxSource::kSynthetic ? c.cell.objects : r.objects_per_frame;
  const std::string model = c.detector + "+" + c.embedder;
  const std::string cell = "pipeline:" + model + "|" + c.backend + "|cpu|fp32|b" + std::to_string(c.max_batch) +
                           "|t" + std::to_string(c.threads) + "|pipeline|" + c.transport + "|o" +
                           std::to_string(objects) + "|w" + std::to_string(c.workers) +
                           (c.cell.boxes == BoxSource::kDetector ? "|detector" : "");
  const measure::Summary zl = Summarize(r.zero_load.timings, &FrameTiming::total_ms);
  const measure::Summary ll = Summarize(r.loaded.timings, &FrameTiming::total_ms);
  const double fps = r.loaded.wall_s > 0 ? static_cast<double>(r.loaded.frames) / r.loaded.wall_s : NAN;
  const double ops = r.loaded.wall_s > 0 ? static_cast<double>(r.loaded.objects) / r.loaded.wall_s : NAN;
  json stages = Stages(r.zero_load.timings);
  const double broker_share = ok && zl.mean > 0 ? stages["broker"].get<double>() / zl.mean : NAN;
  json row = {
      {"schema", 1}, {"kind", "pipeline"}, {"run_id", c.run_id}, {"cell_id", cell},
      {"timestamp", bench::UtcTimestamp()}, {"model", model}, {"backend", c.backend}, {"device", "cpu"},
      {"precision", "fp32"}, {"batch_size", c.max_batch}, {"threads", c.threads}, {"scenario", "pipeline"},
      {"status", ok ? "ok" : "failed"},
      {"error", ok ? json(nullptr) : json(error.empty() ? "no frame completed" : error)},
      {"throughput_per_s", ok && std::isfinite(fps) ? json(fps) : json(nullptr)},
      {"latency_ms", Latency(zl)},
      {"latency_percentiles_valid", {{"p90", zl.p90_valid}, {"p99", zl.p99_valid}, {"p999", zl.p999_valid}}},
      {"samples", zl.count}, {"stable", false}, {"windows", json::array()},
      {"load_s", {{"cold", nullptr}, {"cached", nullptr}}}, {"first_inference_ms", nullptr},
      {"peak_rss_mb", nullptr}, {"gpu_mem_peak_mb", nullptr}, {"power_w", nullptr},
      {"energy_j_per_inference", nullptr}, {"cpu_energy_j_per_inference", nullptr},
      {"max_abs_err", nullptr}, {"max_rel_err", nullptr}, {"parity_reference", nullptr},
      {"pipeline",
       {{"transport", c.transport}, {"broker", c.broker.empty() ? json(nullptr) : json(c.broker)},
        {"objects_per_frame", objects},
        {"boxes", c.cell.boxes == BoxSource::kSynthetic ? "synthetic" : "detector"},
        {"workers", c.workers}, {"inflight", c.cell.inflight},
        {"zero_load_frames", r.zero_load.frames}, {"loaded_frames", r.loaded.frames},
        {"loaded_s", r.loaded.wall_s}, {"objects_per_s", Num(ops)},
        {"loaded_latency_ms", {{"p50", Num(ll.p50)}, {"mean", Num(ll.mean)}, {"p99", Num(ll.p99)}}},
        {"loaded_stages_ms", Stages(r.loaded.timings)},
        {"stage2_batch_mean", {{"zero_load", r.zero_load.batch_mean}, {"loaded", r.loaded.batch_mean}}},
        {"broker_share", Num(broker_share)}, {"duplicates", r.duplicates}, {"bad_results", r.bad_results},
        {"results_per_worker", r.workers}}},
      {"settings",
       {{"warmup_frames", c.cell.warmup_frames}, {"latency_frames", c.cell.latency_frames},
        {"duration_s", c.cell.duration_s}, {"inflight", c.cell.inflight}, {"frame_pool", c.cell.frame_pool},
        {"seed", c.cell.seed}, {"timeout_s", c.cell.timeout_s}, {"max_batch", c.max_batch}}},
      {"versions", bench::Versions()}, {"host", bench::HostManifest()}, {"command", c.command}};
  if (ok) row["stages_ms"] = stages;
  return row;
}

}  // namespace optic::pipeline
