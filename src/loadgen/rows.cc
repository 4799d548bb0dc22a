// The result rows (results/row.h, kind "load") of optic load stages.
#include <algorithm>

#include "host/manifest.h"
#include "loadgen.h"

namespace optic::loadgen {

using nlohmann::json;

results::Row LoadRow(const LoadGenerator& gen, const StageResult& r, const std::string& run_id,
                     const std::string& command) {
  const LoadSettings& s = gen.settings();
  const ModelMeta& meta = gen.metadata();
  results::Row row;
  std::string precision = meta.inputs.empty() || meta.inputs[0].datatype.empty() ? "FP32" : meta.inputs[0].datatype;
  std::transform(precision.begin(), precision.end(), precision.begin(), ::tolower);
  row.kind = "load";
  row.run_id = run_id;
  row.timestamp = host::UtcTimestamp();
  row.model = s.model;
  row.backend = meta.platform.empty() ? "kserve" : meta.platform;
  row.device = s.device_label;
  row.precision = precision;
  row.batch_size = s.batch;
  row.threads = 0;
  row.scenario = r.mode == "poisson" ? "server" : "closed_loop";
  row.cell_id = s.model + "|" + row.backend + "|" + row.device + "|" + precision + "|b" +
                std::to_string(s.batch) + "|t0|" + row.scenario +
                (r.mode == "poisson" ? "|q" + std::to_string(static_cast<int64_t>(r.target_qps))
                                     : "|c" + std::to_string(r.concurrency)) +
                // gRPC stages are other cells than HTTP's; HTTP's cell ids stay as they were.
                (s.protocol == Protocol::kGrpc ? "|grpc" : "");
  row.protocol = ProtocolName(s.protocol);
  const bool ok = r.completed > 0;
  row.status = ok ? "ok" : "failed";
  row.error = ok ? "" : r.first_error.empty() ? "no request completed" : r.first_error;
  if (ok) {
    row.throughput_per_s = r.throughput_rps * s.batch;
    row.SetLatency(r.latency);
  }
  const measure::Summary& l = r.latency;
  row.p90_valid = l.p90_valid, row.p99_valid = l.p99_valid, row.p999_valid = l.p999_valid;
  const size_t n = r.latencies_ms.size();
  row.samples = static_cast<int64_t>(n);
  row.stable = r.stable;
  row.concurrency = r.concurrency;
  row.settings = {{"url", s.url}, {"binary", s.binary}, {"duration_s", s.duration_s},
                  {"warmup_s", s.warmup_s}, {"seed", s.seed}, {"max_inflight", s.max_inflight},
                  {"errors", r.errors}, {"first_error", r.first_error},
                  {"mode", r.mode}, {"server_version", s.version}};
  row.versions = host::Versions();
  row.host = host::HostManifest();
  row.command = command;
  for (const measure::Window& w : r.windows) {
    // Images per second, like throughput_per_s.
    row.windows.push_back({{"throughput_per_s", w.throughput_per_s * s.batch},
                           {"latency_p50_ms", w.latency_p50_ms}});
  }
  if (r.mode == "poisson") {
    const double late = n > 0 ? static_cast<double>(r.late) / static_cast<double>(n + r.errors) : 0;
    row.server = {{"target_qps", r.target_qps}, {"achieved_qps", r.throughput_rps},
                  {"late_fraction", late}, {"generator_fell_behind", late > 0.01}};
  }
  if (r.server.valid) {
    // Server-side split from the server's statistics; client = what the server did not see
    // (HTTP or gRPC client, network, kernel, body transfer).
    row.stages_ms = {{"queue", r.server.queue},
                     {"compute_input", r.server.compute_input},
                     {"infer", r.server.compute_infer},
                     {"compute_output", r.server.compute_output},
                     {"server", r.server.request},
                     {"client", std::max(0.0, l.mean - r.server.request)}};
  }
  return row;
}

}  // namespace optic::loadgen
