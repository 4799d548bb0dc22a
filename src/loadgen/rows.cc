// Results rows (docs/results-schema.md, kind "load") for optic load stages.
#include <algorithm>

#include "bench/manifest.h"
#include "loadgen.h"

namespace optic::loadgen {

using nlohmann::json;

json LoadRow(const LoadGenerator& gen, const StageResult& r, const std::string& run_id,
             const std::string& command) {
  const LoadSettings& s = gen.settings();
  const ModelMeta& meta = gen.metadata();
  std::string precision = meta.inputs.empty() || meta.inputs[0].datatype.empty() ? "FP32" : meta.inputs[0].datatype;
  std::transform(precision.begin(), precision.end(), precision.begin(), ::tolower);
  const std::string backend = meta.platform.empty() ? "kserve" : meta.platform;
  const std::string scenario = r.mode == "poisson" ? "server" : "closed_loop";
  const std::string device = s.device_label;
  std::string cell = s.model + "|" + backend + "|" + device + "|" + precision + "|b" +
                     std::to_string(s.batch) + "|t0|" + scenario +
                     (r.mode == "poisson" ? "|q" + std::to_string(static_cast<int64_t>(r.target_qps))
                                          : "|c" + std::to_string(r.concurrency)) +
                     // gRPC stages are other cells than HTTP's; HTTP's cell ids stay as they were.
                     (s.protocol == Protocol::kGrpc ? "|grpc" : "");
  const bool ok = r.completed > 0;
  const size_t n = r.latencies_ms.size();
  const measure::Summary& l = r.latency;
  json row = {
      {"schema", 1}, {"kind", "load"}, {"run_id", run_id}, {"cell_id", cell},
      {"timestamp", bench::UtcTimestamp()}, {"model", s.model}, {"backend", backend},
      {"device", device}, {"precision", precision}, {"batch_size", s.batch}, {"threads", 0},
      {"scenario", scenario}, {"protocol", ProtocolName(s.protocol)}, {"status", ok ? "ok" : "failed"},
      {"error", ok ? json(nullptr) : json(r.first_error.empty() ? "no request completed" : r.first_error)},
      {"throughput_per_s", ok ? json(r.throughput_rps * s.batch) : json(nullptr)},
      {"latency_ms", ok ? json{{"p50", l.p50}, {"p90", l.p90}, {"p95", l.p95}, {"p99", l.p99},
                               {"p999", l.p999}, {"mean", l.mean}, {"min", l.min}, {"max", l.max}}
                        : json{{"p50", nullptr}, {"p90", nullptr}, {"p95", nullptr}, {"p99", nullptr},
                               {"p999", nullptr}, {"mean", nullptr}, {"min", nullptr}, {"max", nullptr}}},
      {"latency_percentiles_valid", {{"p90", l.p90_valid}, {"p99", l.p99_valid}, {"p999", l.p999_valid}}},
      {"samples", static_cast<int64_t>(n)}, {"stable", r.stable}, {"windows", json::array()},
      {"load_s", {{"cold", nullptr}, {"cached", nullptr}}}, {"first_inference_ms", nullptr},
      {"peak_rss_mb", nullptr}, {"gpu_mem_peak_mb", nullptr}, {"power_w", nullptr},
      {"energy_j_per_inference", nullptr}, {"cpu_energy_j_per_inference", nullptr},
      {"max_abs_err", nullptr}, {"max_rel_err", nullptr}, {"parity_reference", nullptr},
      {"concurrency", r.concurrency},
      {"settings", {{"url", s.url}, {"binary", s.binary}, {"duration_s", s.duration_s},
                    {"warmup_s", s.warmup_s}, {"seed", s.seed}, {"max_inflight", s.max_inflight},
                    {"errors", r.errors}, {"first_error", r.first_error},
                    {"mode", r.mode}, {"server_version", s.version}}},
      {"versions", bench::Versions()}, {"host", bench::HostManifest()}, {"command", command}};
  for (const bench::Window& w : r.windows) {
    // Images per second, like throughput_per_s.
    row["windows"].push_back({{"throughput_per_s", w.throughput_per_s * s.batch},
                              {"latency_p50_ms", w.latency_p50_ms}});
  }
  if (r.mode == "poisson") {
    const double late = n > 0 ? static_cast<double>(r.late) / static_cast<double>(n + r.errors) : 0;
    row["server"] = {{"target_qps", r.target_qps}, {"achieved_qps", r.throughput_rps},
                     {"late_fraction", late}, {"generator_fell_behind", late > 0.01}};
  }
  if (r.server.valid) {
    // Server-side split from the server's statistics; client = what the server did not see
    // (HTTP or gRPC client, network, kernel, body transfer).
    row["stages_ms"] = {{"queue", r.server.queue},
                        {"compute_input", r.server.compute_input},
                        {"infer", r.server.compute_infer},
                        {"compute_output", r.server.compute_output},
                        {"server", r.server.request},
                        {"client", std::max(0.0, l.mean - r.server.request)}};
  }
  return row;
}

}  // namespace optic::loadgen
