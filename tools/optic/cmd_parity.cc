// optic parity --model NAME: every backend and precision against the reference, as a table.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "optic/parity.h"

namespace optic::cli {

namespace {

struct Flags {
  std::string model, backends, precisions, reference, dir = DefaultZooDir(), device = "cpu";
  int batch = 2, threads = 0;
  uint64_t seed = 1;
};

int Run(const Flags& f) {
  Zoo zoo;
  Status s = Zoo::Open(f.dir, &zoo);
  ParityOptions opt;
  opt.backends = SplitList(f.backends);
  for (const auto& p : SplitList(f.precisions)) {
    Precision prec;
    if (s.ok()) s = ParsePrecision(p, &prec);
    opt.precisions.push_back(prec);
  }
  if (s.ok()) s = ParseDevice(f.device, &opt.device);
  opt.reference = f.reference;
  opt.batch_size = f.batch;
  opt.threads = f.threads;
  opt.seed = f.seed;
  std::vector<ParityRow> rows;
  if (s.ok()) s = RunParity(zoo, f.model, opt, &rows);
  if (!s.ok()) {
    std::cerr << "optic parity: " << s.ToString() << "\n";
    for (const auto& r : rows) {
      if (!r.ran) std::cerr << "  " << r.backend << " " << PrecisionName(r.precision) << ": " << r.error << "\n";
    }
    return 2;
  }
  int failures = 0;
  std::printf("parity of %s, batch %d, seed %llu\n", f.model.c_str(), f.batch,
              static_cast<unsigned long long>(f.seed));
  std::printf("%-12s %-5s %10s %10s %10s %7s %8s %9s  %s\n", "backend", "prec", "max_abs",
              "max_rel", "rel_l2", "tol", "load_s", "run_ms", "result");
  for (const auto& r : rows) {
    std::string result = r.reference ? "reference" : r.pass ? "pass" : "FAIL";
    if (!r.ran) result = (r.error.rfind("UNSUPPORTED", 0) == 0 ? "unsupported: " : "FAIL: ") + r.error;
    else if (!r.error.empty()) result = "FAIL: " + r.error;
    else if (r.diff.nan_count) result += " (" + std::to_string(r.diff.nan_count) + " non-finite)";
    const bool unsupported = !r.ran && r.error.rfind("UNSUPPORTED", 0) == 0;
    if (!r.reference && !r.pass && !unsupported) ++failures;
    if (r.ran) {
      std::printf("%-12s %-5s %10.3e %10.3e %10.3e %7.0e %8.2f %9.1f  %s\n", r.backend.c_str(),
                  PrecisionName(r.precision), r.diff.max_abs, r.diff.max_rel, r.diff.rel_l2,
                  r.tolerance, r.load_s, r.run_ms, result.c_str());
    } else {
      std::printf("%-12s %-5s %10s %10s %10s %7.0e %8s %9s  %s\n", r.backend.c_str(),
                  PrecisionName(r.precision), "-", "-", "-", r.tolerance, "-", "-", result.c_str());
    }
  }
  std::printf("%d of %zu rows failed\n", failures, rows.size());
  return failures ? 1 : 0;
}

}  // namespace

namespace {
void AddParityCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("parity", "Compare every backend and precision with a reference");
  auto f = std::make_shared<Flags>();
  cmd->add_option("--model", f->model, "zoo model name")->required();
  cmd->add_option("--backends", f->backends, "comma-separated backends (default: all real ones)");
  cmd->add_option("--precision", f->precisions,
                  "comma-separated precisions (default: all each backend supports here)");
  cmd->add_option("--reference", f->reference, "reference backend (default: first that runs fp32)");
  cmd->add_option("--models-dir", f->dir, "zoo directory ($OPTIC_MODELS or ./models)");
  cmd->add_option("--device", f->device, "cpu or cuda[:N]");
  cmd->add_option("--batch", f->batch, "rows in the input batch")->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", f->threads, "intra-op threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", f->seed, "input seed");
  cmd->callback([&ctx, f] { ctx.exit_code = Run(*f); });
}

const CommandRegistrar kRegistrar("parity", AddParityCommand);
}  // namespace

}  // namespace optic::cli
