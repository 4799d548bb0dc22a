// optic bench: the measurement harness (docs/bench.md). Flags and --config are parsed here, once,
// into a BenchConfig; the sweep lives in src/bench. `optic bench-cell` (hidden) is the child
// process that runs one cell; `optic bench --validate FILE` checks a results file.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>

#include "bench/cell.h"
#include "bench/config.h"
#include "bench/e2e_images.h"
#include "bench/results.h"
#include "bench/sweep.h"
#include "bench/tune.h"
#include "commands.h"
#include "optic/parse_number.h"

namespace optic::cli {

namespace {

using bench::BenchConfig;

constexpr int kRepeatNotGiven = std::numeric_limits<int>::min();  // --repeat 0 is an error

struct Flags {
  std::string config, models, backends, batch, precision, device, threads, scenario, out,
      models_dir, ensemble, reference, reference_device, validate, image_class, preprocess;
  std::vector<std::string> backend_options, positional_models;
  ModelInputFlags inputs;
  double duration_s = 0, max_duration_s = 0, timeout_s = 0, qps = 0, p99_bound_ms = 0,
         warmup_ms = -1, max_queue_delay_ms = -1;
  int64_t min_samples = 0;
  int warmup_runs = -1, pipeline_depth = -1;
  int repeat = kRepeatNotGiven;
  double tune_budget_s = 0;
  std::string tune_objective = "throughput";
  uint64_t seed = 0;
  bool resume = false, list = false, e2e = false, pageable_inputs = false, seed_given = false;
  std::string command = "optic bench";
};

Status ToConfig(const Flags& f, BenchConfig* c) {
  if (!f.config.empty()) OPTIC_RETURN_IF_ERROR(bench::LoadConfigFile(f.config, c));
  if (!f.models.empty() || !f.positional_models.empty()) {
    c->models = f.positional_models;
    for (const auto& m : SplitList(f.models)) c->models.push_back(m);
  }
  OPTIC_RETURN_IF_ERROR(f.inputs.AddTo(&c->inputs));
  if (!f.inputs.data.empty()) c->inputs.data_file = std::filesystem::absolute(f.inputs.data).lexically_normal().string();
  if (!f.backends.empty()) c->backends = SplitList(f.backends);
  if (!f.ensemble.empty()) c->ensemble = SplitList(f.ensemble);
  if (!f.batch.empty()) OPTIC_RETURN_IF_ERROR(bench::ParseBatchList(f.batch, &c->batches));
  if (!f.precision.empty()) {
    c->precisions.clear();
    for (const auto& p : SplitList(f.precision)) OPTIC_RETURN_IF_ERROR(ParsePrecision(p, &c->precisions.emplace_back()));
  }
  if (!f.device.empty()) {
    c->devices.clear();
    for (const auto& d : SplitList(f.device)) OPTIC_RETURN_IF_ERROR(ParseDevice(d, &c->devices.emplace_back()));
  }
  if (!f.threads.empty()) {
    OPTIC_RETURN_IF_ERROR(ParseIntegerList(f.threads, "--threads", 0, 4096, &c->threads));
  }
  if (!f.scenario.empty()) {
    c->scenarios.clear();
    c->e2e = false;
    for (const auto& s : SplitList(f.scenario)) {
      if (s == "e2e") c->e2e = true;  // end-to-end cells, not a steady-state scenario of plain cells
      else OPTIC_RETURN_IF_ERROR(bench::ParseScenario(s, &c->scenarios.emplace_back()));
    }
  }
  if (f.e2e) c->e2e = true;
  if (!f.image_class.empty()) OPTIC_RETURN_IF_ERROR(bench::ParseImageClassList(f.image_class, &c->image_classes));
  if (!f.preprocess.empty()) c->preprocess = SplitList(f.preprocess);
  if ((!f.image_class.empty() || !f.preprocess.empty()) && !c->e2e) {
    return Status::InvalidArgument("--image-class and --preprocess belong to the end-to-end scenario: add --scenario e2e (or --e2e)");
  }
  for (const auto& o : f.backend_options) OPTIC_RETURN_IF_ERROR(bench::ParseBackendOption(o, &c->backend_options));
  if (!f.out.empty()) c->out = f.out;
  if (!f.models_dir.empty()) c->models_dir = f.models_dir;
  if (!f.reference.empty()) c->reference = f.reference;
  if (!f.reference_device.empty()) OPTIC_RETURN_IF_ERROR(ParseDevice(f.reference_device, &c->reference_device));
  if (f.resume) c->resume = true;
  if (f.repeat != kRepeatNotGiven) {
    if (f.repeat < 1 || f.repeat > bench::kMaxRepeat) {
      return Status::InvalidArgument("--repeat: must be from 1 to " + std::to_string(bench::kMaxRepeat) +
                                     ", got " + std::to_string(f.repeat));
    }
    c->repeat = f.repeat;
  }
  auto& s = c->settings;
  if (f.duration_s > 0) {
    s.min_duration_s = f.duration_s;
    s.max_duration_s = std::max(s.max_duration_s, 4 * f.duration_s);
    if (f.max_duration_s <= 0) s.max_duration_s = 4 * f.duration_s;
  }
  if (f.max_duration_s > 0) s.max_duration_s = f.max_duration_s;
  if (f.timeout_s > 0) s.timeout_s = f.timeout_s;
  if (f.qps > 0) s.qps = f.qps;
  if (f.p99_bound_ms > 0) s.p99_bound_ms = f.p99_bound_ms;
  if (f.warmup_ms >= 0) s.warmup_ms = f.warmup_ms;
  if (f.warmup_runs >= 0) s.warmup_runs = f.warmup_runs;
  if (f.max_queue_delay_ms >= 0) s.max_queue_delay_ms = f.max_queue_delay_ms;
  if (f.min_samples > 0) s.min_samples = f.min_samples;
  if (f.seed_given) s.seed = f.seed;
  if (f.pipeline_depth >= 0) s.pipeline_depth = f.pipeline_depth;
  if (f.pageable_inputs) s.pinned_inputs = 0;
  // Re-check the combination (e.g. --max-duration-s below --duration-s).
  OPTIC_RETURN_IF_ERROR(bench::SettingsFromJson(bench::SettingsToJson(s), &s));
  return bench::ValidateBackendOptions(c->backend_options);
}

int Validate(const std::string& path) {
  std::vector<results::Row> rows;
  std::vector<results::LineError> errors;
  Status s = results::ReadFile(path, results::ReadMode::kStrict, &rows, &errors);
  if (s.code() == StatusCode::kUnsupported) {  // another schema version: every row is invalid
    std::cout << s.message() << "\n";
    return 1;
  }
  if (!s.ok()) {
    std::cerr << "optic bench --validate: " << s.ToString() << "\n";
    return 2;
  }
  for (const auto& e : errors) std::cout << path << ": line " << e.line << ": " << e.status.message() << "\n";
  std::cout << path << ": " << rows.size() + errors.size() << " rows, " << errors.size() << " invalid\n";
  return errors.empty() && !rows.empty() ? 0 : 1;
}

int Run(const Flags& f) {
  if (!f.validate.empty()) return Validate(f.validate);
  bench::SweepOptions opt;
  Status s = ToConfig(f, &opt.config);
  if (!s.ok()) {
    std::cerr << "optic bench: " << s.ToString() << "\n";
    return 2;
  }
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) {
    std::cerr << "optic bench: cannot find the optic executable (/proc/self/exe)\n";
    return 2;
  }
  opt.self_exe.assign(exe, static_cast<size_t>(n));
  opt.command = f.command;
  opt.list_only = f.list;
  bench::Progress progress(stderr, isatty(STDERR_FILENO));
  bench::SweepResult result;
  bench::TuneResult tuned;
  const bench::TuneOptions tune{f.tune_budget_s, f.tune_objective};
  if (f.tune_budget_s != 0 && !f.list) {
    s = bench::RunTune(opt, tune, &progress, &tuned);
    result = tuned.sweep;
  } else {
    s = bench::RunSweep(opt, &progress, &result);
  }
  if (!s.ok()) {
    std::cerr << "optic bench: " << s.ToString() << "\n";
    return 2;
  }
  if (f.list) return 0;
  bench::PrintSummary(result.rows, stdout);
  if (f.tune_budget_s != 0) bench::PrintTuneSummary(tuned, tune, stdout);
  // With --repeat every run of a cell counts: 2 cells x 3 repeats are 6 runs.
  std::printf("\n%d %s (%d ok, %d unsupported, %d failed, %d timeout), %d skipped (resume); rows in %s\n",
              result.cells, opt.config.repeat > 1 ? "cell runs" : "cells run", result.ok,
              result.unsupported, result.failed, result.timeout, result.skipped, opt.config.out.c_str());
  return result.failed + result.timeout > 0 ? 1 : 0;
}

int RunCell(const std::string& file, int fd) {
  std::ifstream in(file);
  auto j = nlohmann::json::parse(in, nullptr, false);
  bench::CellSpec cell;
  Status s = j.is_discarded() ? Status::InvalidArgument("cell file '" + file + "' is not JSON")
                              : bench::CellFromJson(j, &cell);
  bench::CellReporter reporter(fd);
  if (!s.ok()) {
    results::Row row;  // without the cell: the sweep puts status and error on the cell's row
    row.error = s.ToString();
    reporter.Row(row);
    return 2;
  }
  return bench::RunCellInChild(cell, &reporter);
}

void AddBenchCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("bench", "Sweep models x backends x batch sizes x ... and measure");
  auto f = std::make_shared<Flags>();
  cmd->add_option("--config", f->config, "JSON config file (docs/bench.md); flags override it");
  cmd->add_option("model", f->positional_models,
                  "model files (.onnx, .pt, .xml, .pt2) or zoo names to bench, as --models takes");
  cmd->add_option("--models", f->models,
                  "comma-separated zoo models or model files, or 'null' (default: mobilenet_v2,resnet50)");
  AddModelInputOptions(cmd, &f->inputs, "the --batch size", "uniform [-2, 2)",
                       "a model file's input values, the arrays' rows tiled or sliced to each batch size");
  cmd->add_option("--backends", f->backends, "comma-separated backends (default: every real one)");
  cmd->add_option("--batch", f->batch,
                  "batch sizes: a list 1,2,4 or a range 1-64 of powers of two (both bounds powers "
                  "of two; 3-5 is refused, write 3,4,5) (default " +
                      bench::BatchListText(bench::kDefaultBatches) + ")");
  cmd->add_option("--precision", f->precision, "comma-separated precisions (default: fp32, +bf16 where supported)");
  cmd->add_option("--device", f->device, "comma-separated devices: cpu, cuda[:N] (default cpu)");
  cmd->add_option("--threads", f->threads, "comma-separated intra-op thread counts, 0 = all cores (default 0)");
  cmd->add_option("--scenario", f->scenario, "offline, single_stream, server, server_search, e2e (default offline,single_stream)");
  cmd->add_flag("--e2e", f->e2e, "end-to-end cells: JPEG bytes in, outputs out (same as adding e2e to --scenario)");
  cmd->add_option("--image-class", f->image_class, "e2e: small,medium,large synthetic JPEGs (default all three)");
  cmd->add_option("--preprocess", f->preprocess, "e2e: cpu,gpu preprocessing (default cpu; gpu needs a CUDA build)");
  cmd->add_option("--duration-s", f->duration_s, "minimum steady-state duration per cell (max: 4x)")
      ->check(RealCheck(0, true));
  cmd->add_option("--max-duration-s", f->max_duration_s, "stop waiting for stability after this long")
      ->check(RealCheck(0, true));
  cmd->add_option("--min-samples", f->min_samples, "minimum timed queries per cell")
      ->check(IntegerCheck(1, int64_t{1} << 40));
  cmd->add_option("--warmup-ms", f->warmup_ms, "minimum warm-up time (default 200)")
      ->check(RealCheck(0, false));
  cmd->add_option("--warmup-runs", f->warmup_runs, "minimum warm-up queries (default 3)")
      ->check(IntegerCheck(0, 1 << 30));
  cmd->add_option("--timeout-s", f->timeout_s, "time limit per cell; the child is killed after it")
      ->check(RealCheck(0, true));
  cmd->add_option("--out", f->out, "results file (.jsonl, appended; default results.jsonl)");
  cmd->add_option("--models-dir", f->models_dir, "zoo directory ($OPTIC_MODELS or ./models)");
  cmd->add_option("--backend-option", f->backend_options, "backend:key=value (repeatable), e.g. null:fail=crash");
  cmd->add_option("--qps", f->qps, "server: target samples/s (default: half the measured capacity)")
      ->check(RealCheck(0, true));
  cmd->add_option("--max-queue-delay-ms", f->max_queue_delay_ms, "server: batching delay (default 2)")
      ->check(RealCheck(0, false));
  cmd->add_option("--p99-bound-ms", f->p99_bound_ms, "server_search: the p99 latency bound")
      ->check(RealCheck(0, true));
  cmd->add_option("--pipeline-depth", f->pipeline_depth,
                  "offline on accelerators: batches in flight (0 = the model's maximum, "
                  "1 = synchronous Execute loop)")
      ->check(IntegerCheck(0, 1024));
  cmd->add_flag("--pageable-inputs", f->pageable_inputs,
                "accelerators: keep the input pool in ordinary memory (the backend then copies "
                "each batch into its pinned staging) instead of the model's page-locked memory");
  cmd->add_option("--ensemble", f->ensemble, "co-located ensemble members, e.g. resnet50,vgg19,densenet201");
  cmd->add_option("--reference", f->reference, "reference backend for the correctness check");
  cmd->add_option("--reference-device", f->reference_device,
                  "device the fp32 reference runs on (default cpu)");
  cmd->add_option("--seed", f->seed, "input pool and arrival schedule seed")
      ->each([f](const std::string&) { f->seed_given = true; });
  cmd->add_flag("--resume", f->resume,
                "skip cells (and repeats) that already have a row in --out");
  cmd->add_option("--repeat", f->repeat,
                  "run every cell N times, each in a fresh process, interleaved (pass 1 runs all "
                  "cells, then pass 2, ...); reports use the median (default 1)");
  cmd->add_flag("--list", f->list, "print the cells and stop");
  cmd->add_option("--tune-budget-s", f->tune_budget_s,
                  "search each backend's settings for up to this many seconds: its defaults, "
                  "then one knob at a time, then the winning knobs together (docs/bench.md)");
  cmd->add_option("--tune-objective", f->tune_objective,
                  "what the search maximises: throughput (default) or latency (p50)");
  cmd->add_option("--validate", f->validate, "check a results file against the schema and stop");
  cmd->callback([&ctx, f] { ctx.exit_code = Run(*f); });
  // The command line is recorded in every row; CLI11 does not keep argv, so rebuild it.
  cmd->parse_complete_callback([f, cmd] {
    std::string line = "optic bench";
    for (const auto* opt : cmd->get_options()) {
      if (opt->count() == 0 || opt->get_name() == "--help") continue;
      if (!opt->nonpositional()) {
        for (const auto& v : opt->results()) line += " " + v;
        continue;
      }
      for (const auto& v : opt->results()) line += " " + opt->get_name() + (v.empty() ? "" : " " + v);
      if (opt->results().empty()) line += " " + opt->get_name();
    }
    f->command = line;
  });
}

void AddBenchCellCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("bench-cell", "");  // internal: one cell in a child process
  cmd->group("");
  auto file = std::make_shared<std::string>();
  auto fd = std::make_shared<int>(1);
  cmd->add_option("--cell", *file, "cell JSON file")->required();
  cmd->add_option("--report-fd", *fd, "file descriptor for the protocol lines");
  cmd->callback([&ctx, file, fd] { ctx.exit_code = RunCell(*file, *fd); });
}

const CommandRegistrar kRegistrar("bench", AddBenchCommand);
const CommandRegistrar kCellRegistrar("bench-cell", AddBenchCellCommand);

}  // namespace

}  // namespace optic::cli
