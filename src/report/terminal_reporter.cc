// Terminal reporter: fixed-width tables for a shell, no colour (output is often piped to a file).
#include <algorithm>
#include <cstdio>
#include <tuple>

#include "results/repeats.h"
#include "report/report.h"

namespace optic::report {

namespace {

std::string Line(const char* fmt, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::string Flags(const Row& r) {
  std::string f;
  if (r.unstable()) f += " unstable";
  if (r.latency_ms.p99 && !r.p99_valid) f += " p99-low-samples";
  if (r.contended.value_or(false)) f += " contended";
  if (r.repeat_spread && *r.repeat_spread > results::kRepeatSpreadRule) f += " repeats-disagree";
  if (r.ok() && r.parity_failed()) f += " PARITY-FAIL (" + r.parity_failure + ")";
  return f;
}

class TerminalReporter : public Reporter {
 public:
  Status Write(const Report& rep, std::ostream& out) const override {
    std::vector<const Row*> rows;
    for (const Row& r : rep.results.rows) rows.push_back(&r);
    std::stable_sort(rows.begin(), rows.end(), [](const Row* a, const Row* b) {
      return std::tuple(a->model, a->kind, a->Config(), a->device, a->precision, a->scenario,
                        a->run_id, a->batch_size) <
             std::tuple(b->model, b->kind, b->Config(), b->device, b->precision, b->scenario,
                        b->run_id, b->batch_size);
    });
    // The backend column holds the configuration ("torch +cuda_graph"): options change results.
    int width = 12;
    for (const Row* r : rows) width = std::max(width, static_cast<int>(r->Config().size()));
    // Repeated cells (optic bench --repeat) add a column: median of how many runs, max/min.
    const bool repeated = std::any_of(rows.begin(), rows.end(), [](const Row* r) { return r->repeats_aggregated > 1; });
    auto repeats = [&](const Row* r) -> std::string {
      if (!repeated) return "";
      if (r->repeats_aggregated < 2) return Line(" %13s", "-");
      return Line(" %4dx %7s", r->repeats_aggregated, Fmt(r->repeat_spread).c_str());
    };
    out << Line("%-16s %-6s %-*s %-7s %-5s %5s %4s %-13s %11s %9s %9s %9s", "model", "kind",
                width, "backend", "device", "prec", "batch", "conc", "scenario", "samples/s", "p50_ms",
                "p99_ms", "max_abs")
        << (repeated ? Line(" %13s", "repeats/sprd") : "") << "  status\n";
    for (const Row* r : rows) {
      std::string status = r->ok() ? "ok" : r->status + ": " + r->error;
      status += Flags(*r);
      out << Line("%-16s %-6s %-*s %-7s %-5s %5d %4s %-13s %11s %9s %9s %9s", r->model.c_str(),
                  r->kind.c_str(), width, r->Config().c_str(), r->device.c_str(), r->precision.c_str(),
                  r->batch_size, r->concurrency ? std::to_string(*r->concurrency).c_str() : "-",
                  r->scenario.empty() ? "-" : r->scenario.c_str(),
                  Fmt(r->throughput_per_s, 4).c_str(), Fmt(r->latency_ms.p50).c_str(),
                  Fmt(r->latency_ms.p99).c_str(), Fmt(r->max_abs_err, 2).c_str())
          << repeats(r) << "  " << status << "\n";
    }
    if (!rep.winners.empty()) {
      out << "\nwinners (best, runner-up) per hardware and model, among rows within parity limits\n";
      for (const auto& c : rep.winners) {
        auto name = [&c](const std::optional<Entry>& e) {
          if (!e && c.parity_excluded) return std::string("none within parity limits");
          return e ? e->config + "/" + e->precision + "/b" + std::to_string(e->batch_size) +
                         " " + Fmt(e->value) + (e->parity_checked ? "" : " (parity not checked)")
                   : std::string("-");
        };
        out << "  " << c.hardware << " | " << c.model << ": min latency " << name(c.best_latency)
            << " ms (runner-up " << name(c.runner_up_latency) << (c.latency_tie ? ", tie" : "")
            << "); max throughput " << name(c.best_throughput) << "/s (runner-up "
            << name(c.runner_up_throughput) << (c.throughput_tie ? ", tie" : "") << ")";
        if (c.parity_excluded) out << "; " << c.parity_excluded << " row(s) out of parity tolerance not counted";
        out << "\n";
      }
    }
    for (const auto& f : rep.power_fits) {
      out << Line("power fit on %s: P = %.4g * throughput^%.3f W (R^2 %.3f, %d points)\n",
                  f.hardware.c_str(), f.law.a, f.law.b, f.law.r2, f.law.n);
    }
    if (rep.comparison) {
      const Comparison& c = *rep.comparison;
      out << Line("\ncomparison with %s: %d regression(s), %d improvement(s) beyond %.0f%%\n",
                  rep.options.compare_base.c_str(), c.regressions, c.improvements,
                  c.threshold * 100);
      for (const auto& r : c.rows) {
        if (!r.regression && !r.improvement) continue;
        out << "  " << (r.regression ? "REGRESSION " : "improved   ") << r.label << ": " << r.note
            << "\n";
      }
    }
    for (const auto& w : rep.results.warnings) out << "warning: " << w.ToString() << "\n";
    if (rep.base) {
      for (const auto& w : rep.base->warnings) out << "warning: " << w.ToString() << "\n";
    }
    return out ? Status::OK() : Status::Internal("error writing the terminal table");
  }
};

}  // namespace

std::unique_ptr<Reporter> MakeTerminalReporter() { return std::make_unique<TerminalReporter>(); }

}  // namespace optic::report
