// optic load --model M [--protocol http|grpc] [--url host:port] [--concurrency 1,2,4 | --rate 50,100]:
// load a KServe v2 server (optic serve or Triton) over HTTP or gRPC and report latency
// percentiles, throughput and the client/server time split; rows in the results schema with
// --output (for optic report).
#include <cstdio>
#include <iostream>

#include "host/manifest.h"
#include "results/row.h"
#include "commands.h"
#include "loadgen/loadgen.h"
#include "optic/parse_number.h"

namespace optic::cli {
namespace {

struct Flags {
  loadgen::LoadSettings s;
  std::string protocol = "http", url, concurrency, rates, output;
  bool json = false;
  std::string command;
};

int Run(const Flags& f) {
  // Every stage's value is checked before the first connection.
  std::vector<int> conc;
  std::vector<double> rates;
  loadgen::LoadSettings settings = f.s;
  Status s = loadgen::ParseProtocol(f.protocol, &settings.protocol);
  settings.url = f.url.empty() ? loadgen::DefaultUrl(settings.protocol) : f.url;
  if (s.ok() && !f.concurrency.empty()) s = ParseIntegerList(f.concurrency, "--concurrency", 1, 4096, &conc);
  if (s.ok() && !f.rates.empty()) s = ParseRealList(f.rates, "--rate", 0, true, 1e7, &rates);
  if (!s.ok()) {
    std::cerr << "optic load: " << s.ToString() << "\n";
    return 2;
  }
  if (conc.empty() && rates.empty()) conc = {1, 2, 4, 8};
  settings.binary = !f.json;
  std::unique_ptr<loadgen::LoadGenerator> gen;
  s = loadgen::LoadGenerator::Create(settings, &gen);
  if (!s.ok()) {
    std::cerr << "optic load: " << s.ToString() << "\n";
    return 2;
  }
  results::ResultsWriter writer;
  if (!f.output.empty()) {
    s = writer.Open(f.output);
    if (!s.ok()) {
      std::cerr << "optic load: " << s.ToString() << "\n";
      return 2;
    }
  }
  const std::string run_id = host::NewRunId();
  std::printf("optic load: %s at %s over %s, batch %d, %s, %.1f s per stage (+%.1f s warm-up)\n",
              settings.model.c_str(), settings.url.c_str(), loadgen::ProtocolName(settings.protocol),
              settings.batch, settings.binary ? "binary tensors" : "JSON tensors", settings.duration_s,
              settings.warmup_s);
  std::printf("%-14s %9s %8s %8s %8s %8s %8s %8s | %8s %8s %8s | %6s %6s\n", "stage", "req/s",
              "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "mean_ms", "srv_ms", "queue",
              "infer", "late%", "errors");
  int failures = 0;
  auto report = [&](const loadgen::StageResult& r) {
    const std::string stage = r.mode == "poisson" ? "rate " + std::to_string(static_cast<int>(r.target_qps))
                                                  : "conc " + std::to_string(r.concurrency);
    const double late = r.mode == "poisson" && r.completed + r.errors > 0
                            ? 100.0 * r.late / static_cast<double>(r.completed + r.errors) : 0;
    std::printf("%-14s %9.1f %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f | %8.3f %8.3f %8.3f | %6.2f %6lld\n",
                stage.c_str(), r.throughput_rps, r.latency.p50, r.latency.p90, r.latency.p95,
                r.latency.p99, r.latency.p999, r.latency.mean,
                r.server.request, r.server.queue, r.server.compute_infer, late,
                static_cast<long long>(r.errors));
    if (r.errors > 0) std::printf("  first error: %s\n", r.first_error.c_str());
    if (r.mode == "poisson" && late > 1) {
      std::printf("  generator fell behind: %.1f%% of sends > 1 ms late (raise --max-inflight)\n", late);
    }
    std::fflush(stdout);
    if (r.completed == 0) ++failures;
    if (!f.output.empty()) {
      Status w = writer.Append(loadgen::LoadRow(*gen, r, run_id, f.command + " --url " + settings.url));
      if (!w.ok()) std::cerr << "optic load: " << w.ToString() << "\n";
    }
  };
  for (int c : conc) {
    loadgen::StageResult r;
    s = gen->RunClosedLoop(c, &r);
    if (!s.ok()) { std::cerr << "optic load: " << s.ToString() << "\n"; return 2; }
    report(r);
  }
  for (double q : rates) {
    loadgen::StageResult r;
    s = gen->RunPoisson(q, &r);
    if (!s.ok()) { std::cerr << "optic load: " << s.ToString() << "\n"; return 2; }
    report(r);
  }
  return failures ? 1 : 0;
}

void AddLoadCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("load", "Load a KServe v2 server over HTTP or gRPC: closed-loop concurrency or Poisson rate");
  auto f = std::make_shared<Flags>();
  cmd->add_option("--protocol", f->protocol, "http (JSON or binary tensors) or grpc (raw_input_contents)");
  cmd->add_option("--url", f->url, "server host:port (default 127.0.0.1:8000 for http, 127.0.0.1:8001 for grpc)");
  cmd->add_option("--model", f->s.model, "model name")->required();
  cmd->add_option("--model-version", f->s.version, "model version (default: the server's choice)");
  cmd->add_option("--batch", f->s.batch, "rows per request (variable batch dimension)")->check(IntegerCheck(1, 4096));
  cmd->add_flag("--json", f->json, "http: send JSON tensors instead of the binary tensor extension");
  cmd->add_option("--concurrency", f->concurrency, "closed loop: comma-separated client counts, 1..4096 (default 1,2,4,8)");
  cmd->add_option("--rate", f->rates, "open loop: comma-separated Poisson request rates (req/s, > 0)");
  cmd->add_option("--duration-s", f->s.duration_s, "measured seconds per stage")->check(RealCheck(0, true));
  cmd->add_option("--warmup-s", f->s.warmup_s, "unmeasured seconds before each stage")->check(RealCheck(0, false));
  cmd->add_option("--max-inflight", f->s.max_inflight, "open loop: client threads")->check(IntegerCheck(1, 4096));
  cmd->add_option("--seed", f->s.seed, "input data and arrival schedule seed");
  cmd->add_option("--auth-token", f->s.auth_token, "bearer token");
  cmd->add_option("--bytes-file", f->s.bytes_file, "contents of each BYTES input element (e.g. a JPEG for a JPEG-in model)");
  cmd->add_option("--device-label", f->s.device_label, "what the server runs on, recorded in rows");
  cmd->add_option("--output", f->output, "append results rows (.jsonl) for optic report");
  cmd->callback([&ctx, f] {
    // The row records the settings that shaped it, as a command that reproduces it.
    f->command = "optic load --protocol " + f->protocol + " --model " + f->s.model +
                 (f->s.version.empty() ? "" : " --model-version " + f->s.version) +
                 " --batch " + std::to_string(f->s.batch) + (f->json ? " --json" : "") +
                 (f->concurrency.empty() ? "" : " --concurrency " + f->concurrency) +
                 (f->rates.empty() ? "" : " --rate " + f->rates) +
                 " --duration-s " + std::to_string(f->s.duration_s) +
                 " --warmup-s " + std::to_string(f->s.warmup_s) + " --seed " + std::to_string(f->s.seed) +
                 (f->s.bytes_file.empty() ? "" : " --bytes-file " + f->s.bytes_file);
    ctx.exit_code = Run(*f);
  });
}

const CommandRegistrar kRegistrar("load", AddLoadCommand);

}  // namespace
}  // namespace optic::cli
