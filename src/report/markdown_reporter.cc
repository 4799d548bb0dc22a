// Markdown reporter: a summary for READMEs and pull requests (GitHub-flavoured tables).
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "results/repeats.h"
#include "report/html_text.h"
#include "report/report.h"
#include "report/pipeline_figure.h"
#include "report/scaling.h"

namespace optic::report {

namespace {

std::string EntryText(const std::optional<Entry>& e, const char* unit) {
  if (!e) return "-";
  std::string s = "**" + e->config + "** " + Fmt(e->value) + " " + unit + " (" + e->precision +
                  ", b" + std::to_string(e->batch_size) + ")";
  if (e->unstable) s += " ⚠ unstable";
  if (!e->parity_checked) s += " ⚠ parity not checked";
  return s;
}

// A winner cell: the entry, or why there is none when every ok row was out of parity limits.
std::string WinnerText(const WinnerCell& c, const std::optional<Entry>& e, const char* unit) {
  if (!e && c.parity_excluded) {
    return "none within parity limits (" + std::to_string(c.parity_excluded) + " out of tolerance)";
  }
  return EntryText(e, unit);
}

void Machines(const Report& rep, std::ostream& out) {
  std::set<std::string> seen;
  for (const Row& r : rep.results.rows) {
    if (!r.host.is_object() || !seen.insert(r.host.dump()).second) continue;
    const auto& h = r.host;
    out << "- **" << MarkdownCell(JsonString(h, "hostname", "unknown host")) << "**: "
        << MarkdownCell(JsonString(h, "cpu", "unknown CPU"));
    if (h.contains("cores") && h["cores"].is_number()) out << ", " << h["cores"].dump() << " cores";
    if (h.contains("memory_gb") && h["memory_gb"].is_number()) {
      out << ", " << Fmt(h["memory_gb"].get<double>()) << " GB";
    }
    if (!JsonString(h, "gpu").empty()) out << ", " << MarkdownCell(JsonString(h, "gpu"));
    out << ", " << MarkdownCell(JsonString(h, "os", "unknown OS"));
    if (r.versions.is_object()) {
      // An unknown version (null) says nothing about the machine, so it is left out.
      std::string versions;
      for (const auto& [k, v] : r.versions.items()) {
        if (v.is_null()) continue;
        versions += (versions.empty() ? "" : ", ") + k + "=" +
                    (v.is_string() ? v.get<std::string>() : v.dump());
      }
      if (!versions.empty()) out << "; versions: " << MarkdownCell(versions);
    }
    out << "\n";
  }
}

class MarkdownReporter : public Reporter {
 public:
  Status Write(const Report& rep, std::ostream& out) const override {
    const auto& rows = rep.results.rows;
    out << "# " << rep.options.title << "\n\n";
    out << rows.size() << " rows from";
    for (const auto& f : rep.results.files) out << " `" << f << "`";
    out << ".\n\n";
    Machines(rep, out);
    WriteScalingMarkdown(ScalingSeriesOf(rep.results), out);
    WritePipelineMarkdown(PipelineSeriesOf(rep.results), out);
    if (!rep.winners.empty()) {
      out << "\n## Winners per hardware and model\n\n"
          << "Only rows within their precision's parity limits compete (docs/architecture.md, "
          << "\"Parity\"); rows out of them are listed under \"Out of parity tolerance\".\n\n"
          << "| hardware | model | min latency (p50) | runner-up | max throughput | runner-up | out of parity tolerance |\n"
          << "|---|---|---|---|---|---|---|\n";
      for (const auto& c : rep.winners) {
        out << "| " << MarkdownCell(c.hardware) << " | " << c.model << " | "
            << WinnerText(c, c.best_latency, "ms") << " | " << EntryText(c.runner_up_latency, "ms")
            << (c.latency_tie ? " (tie)" : "") << " | " << WinnerText(c, c.best_throughput, "/s")
            << " | " << EntryText(c.runner_up_throughput, "/s")
            << (c.throughput_tie ? " (tie)" : "") << " | " << c.parity_excluded << " |\n";
      }
    }
    WriteMatrixMarkdown(rep.matrix, out);
    if (!rep.speedups.empty()) {
      out << "\n## Reduced precision vs fp32 (throughput)\n\n"
          << "Agreement with the fp32 reference on the check set: top-1/top-5 (share of samples "
             "whose fp32 top-1 class is the row's top-1 / among its top 5), cosine, rel_l2.\n\n"
          << "| hardware | model | configuration | precision | batch | fp32 /s | /s | speed-up | "
             "top-1 | top-5 | cosine | rel_l2 | max abs err | parity |\n"
          << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
      for (const auto& s : rep.speedups) {
        out << "| " << MarkdownCell(s.hardware) << " | " << s.model << " | " << MarkdownCell(s.series) << " | "
            << s.precision << " | " << s.batch_size << " | " << Fmt(s.fp32_throughput, 4) << " | "
            << Fmt(s.throughput, 4) << " | " << Fmt(s.speedup) << "x | "
            << Fmt(s.top1_agreement) << " | " << Fmt(s.top5_agreement) << " | "
            << Fmt(s.cosine_similarity, 4) << " | " << Fmt(s.rel_l2_err, 2) << " | "
            << Fmt(s.max_abs_err, 2) << " | "
            << (!s.parity_pass ? "not checked" : *s.parity_pass ? "pass" : "**FAIL**") << " |\n";
      }
    }
    if (!rep.settings_gains.empty()) {
      out << "\n## Settings vs defaults (throughput)\n\n"
          << "Per cell, the backend's defaults (no backend options, every core) against the best "
             "configuration measured (`optic bench --tune-budget-s`, docs/bench.md).\n\n"
          << "| hardware | model | backend | device | precision | batch | scenario | defaults /s | "
             "best configuration | best /s | gain | configurations |\n"
          << "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
      for (const auto& g : rep.settings_gains) {
        out << "| " << MarkdownCell(g.hardware) << " | " << g.model << " | " << g.backend << " | "
            << g.device << " | " << g.precision << " | " << g.batch_size << " | " << g.scenario
            << " | " << Fmt(g.default_throughput, 4) << " | " << MarkdownCell(g.best_config) << " | "
            << Fmt(g.best_throughput, 4) << " | " << Fmt(g.gain) << "x | " << g.configurations
            << " |\n";
      }
      out << "\nGain per backend over its cells (best / defaults): ";
      const auto summary = SummarizeGains(rep.settings_gains);
      for (size_t i = 0; i < summary.size(); ++i) {
        const auto& b = summary[i];
        out << (i ? "; " : "") << b.backend << " median " << Fmt(b.median_gain) << "x (" << b.cells
            << " cells, " << Fmt(b.min_gain) << "-" << Fmt(b.max_gain) << "x)";
      }
      out << ".\n";
      if (!rep.settings_winners.empty()) {
        out << "\nWinner per model (throughput) against its own backend's defaults in the same "
               "cell and against the fastest defaults row of any backend:\n\n"
            << "| hardware | model | winner | /s | its defaults /s | gain | best defaults | gain |\n"
            << "|---|---|---|---|---|---|---|---|\n";
        for (const auto& w : rep.settings_winners) {
          out << "| " << MarkdownCell(w.hardware) << " | " << w.model << " | **" << w.backend << "** "
              << MarkdownCell(w.settings) << " (" << w.precision << ", b" << w.batch_size << ") | "
              << Fmt(w.throughput, 4) << " | "
              << (w.own_default_throughput > 0 ? Fmt(w.own_default_throughput, 4) : "-") << " | "
              << (w.own_gain > 0 ? Fmt(w.own_gain) + "x" : "-") << " | "
              << (w.best_default_backend.empty()
                      ? std::string("-")
                      : w.best_default_backend + " b" + std::to_string(w.best_default_batch) +
                            " " + Fmt(w.best_default_throughput, 4) + "/s")
              << " | " << (w.gain_over_best_default > 0 ? Fmt(w.gain_over_best_default) + "x" : "-")
              << " |\n";
        }
      }
    }
    bool tuned = !rep.settings_gains.empty();
    for (const auto& f : rep.pareto) {
      if (!tuned || f.points.empty()) continue;
      out << "\nLatency-throughput Pareto front, " << f.model << " on " << MarkdownCell(f.hardware) << " ("
          << f.points.size() << " of " << f.candidates << " rows): ";
      for (size_t i = 0; i < f.points.size(); ++i) {
        const auto& p = f.points[i];
        out << (i ? "; " : "") << MarkdownCell(p.config) << " " << p.precision << " b" << p.batch_size
            << " " << Fmt(p.p50_ms) << " ms, " << Fmt(p.throughput, 4) << "/s";
      }
      out << "\n";
    }
    for (const auto& f : rep.power_fits) {
      out << "\nPower on " << MarkdownCell(f.hardware) << ": P = " << Fmt(f.law.a, 4) << " · throughput^"
          << Fmt(f.law.b, 3) << " W (R² " << Fmt(f.law.r2, 3) << ", " << f.law.n << " points)\n";
    }
    int failed = 0;
    for (const Row& r : rows) failed += !r.ok();
    if (failed) {
      out << "\n## Cells that did not run (" << failed << ")\n\n"
          << "| cell | status | reason |\n|---|---|---|\n";
      for (const Row& r : rows) {
        if (!r.ok()) out << "| " << MarkdownCell(r.Label()) << " | " << r.status << " | " << MarkdownCell(r.error) << " |\n";
      }
    }
    WriteParityFailures(rows, out);
    WriteRepeats(rows, out);
    int unstable = 0;
    for (const Row& r : rows) unstable += r.ok() && r.unstable();
    if (unstable) out << "\n" << unstable << " successful row(s) are marked unstable (throughput or latency varied more than 10% between the last windows).\n";
    if (rep.comparison) WriteComparison(rep, out);
    std::vector<LoadWarning> warnings = rep.results.warnings;
    if (rep.base) warnings.insert(warnings.end(), rep.base->warnings.begin(), rep.base->warnings.end());
    if (!warnings.empty()) {
      out << "\n## Input warnings\n\n";
      for (const auto& w : warnings) out << "- " << MarkdownCell(w.ToString()) << "\n";
    }
    std::set<std::string> commands;
    for (const Row& r : rows) if (!r.command.empty()) commands.insert(r.command);
    if (!commands.empty()) {
      out << "\n## Commands\n\n```\n";
      for (const auto& c : commands) out << c << "\n";
      out << "```\n";
    }
    return out ? Status::OK() : Status::Internal("error writing the Markdown summary");
  }

 private:
  // Rows that ran but whose outputs are out of their precision's parity limits: fast, and wrong.
  static void WriteParityFailures(const std::vector<Row>& rows, std::ostream& out) {
    int n = 0;
    for (const Row& r : rows) n += r.ok() && r.parity_failed();
    if (!n) return;
    out << "\n## Out of parity tolerance (" << n << ")\n\n"
        << "These rows ran, but their outputs are out of their precision's limits against the "
        << "reference; they are not recommended anywhere on this page.\n\n"
        << "| cell | scenario | reference | why |\n|---|---|---|---|\n";
    for (const Row& r : rows) {
      if (!r.ok() || !r.parity_failed()) continue;
      out << "| " << MarkdownCell(r.Label()) << " | " << r.scenario << " | " << MarkdownCell(r.parity_reference)
          << " | " << MarkdownCell(r.parity_failure) << " |\n";
    }
  }

  // Cells measured several times (optic bench --repeat): the median shown everywhere above, and
  // how far the repeats were apart (max/min throughput, judged by the 10% rule).
  static void WriteRepeats(const std::vector<Row>& rows, std::ostream& out) {
    std::vector<const Row*> repeated;
    for (const Row& r : rows) {
      if (r.repeats_aggregated > 1) repeated.push_back(&r);
    }
    if (repeated.empty()) return;
    int over = 0;
    for (const Row* r : repeated) over += r->repeat_spread && *r->repeat_spread > results::kRepeatSpreadRule;
    out << "\n## Repeats\n\n" << repeated.size() << " cell(s) ran more than once, each repeat in a "
        << "fresh process; the tables show the median. Spread: max/min throughput across repeats; "
        << over << " cell(s) exceed " << Fmt(results::kRepeatSpreadRule) << ".\n\n"
        << "| cell | scenario | repeats | median /s | median p50 ms | spread | within 10% | contended |\n"
        << "|---|---|---|---|---|---|---|---|\n";
    for (const Row* r : repeated) {
      const bool within = !r->repeat_spread || *r->repeat_spread <= results::kRepeatSpreadRule;
      out << "| " << MarkdownCell(r->Label()) << " | " << r->scenario << " | " << r->repeats_aggregated
          << " | " << Fmt(r->throughput_per_s, 4) << " | " << Fmt(r->latency_ms.p50) << " | "
          << Fmt(r->repeat_spread) << " | " << (within ? "yes" : "**no**") << " | "
          << (r->contended ? (*r->contended ? "yes" : "no") : "-") << " |\n";
    }
  }

  static void WriteComparison(const Report& rep, std::ostream& out) {
    const Comparison& c = *rep.comparison;
    out << "\n## Comparison with `" << rep.options.compare_base << "`\n\n" << c.regressions
        << " regression(s), " << c.improvements << " improvement(s) beyond "
        << Fmt(c.threshold * 100) << "%.\n\n"
        << "| cell | throughput ratio | p50 ratio | p99 ratio | verdict |\n|---|---|---|---|---|\n";
    for (const auto& r : c.rows) {
      const char* verdict = r.regression ? "🔴 regression" : r.improvement ? "🟢 improved" : "";
      out << "| " << MarkdownCell(r.label) << " | " << Fmt(r.throughput_ratio) << " | " << Fmt(r.p50_ratio)
          << " | " << Fmt(r.p99_ratio) << " | " << verdict << (r.note.empty() ? "" : " " + MarkdownCell(r.note))
          << " |\n";
    }
  }
};

}  // namespace

std::unique_ptr<Reporter> MakeMarkdownReporter() { return std::make_unique<MarkdownReporter>(); }

}  // namespace optic::report
