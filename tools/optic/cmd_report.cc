// optic report FILE.jsonl [...] [-o report.html] [--markdown summary.md] [--compare base.jsonl]:
// turns results files into the terminal table (always, unless --quiet), a self-contained HTML
// page and a Markdown summary. Exit 0 on success, 2 on bad input; with --fail-on-regression,
// 1 when the comparison finds a regression (for CI).
#include <fstream>
#include <iostream>
#include <memory>

#include "commands.h"
#include "report/report.h"

namespace optic::cli {

namespace {

struct Flags {
  report::ReportOptions options;
  std::string html, markdown, chartjs = report::DefaultChartJsPath();
  bool quiet = false, fail_on_regression = false;
};

Status WriteFile(const std::string& path, const report::Reporter& reporter,
                 const report::Report& rep) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::NotFound("cannot write '" + path + "'");
  OPTIC_RETURN_IF_ERROR(reporter.Write(rep, out));
  out.close();
  if (!out) return Status::Internal("error writing '" + path + "'");
  return Status::OK();
}

int Run(const Flags& f) {
  report::Report rep;
  Status s = report::BuildReport(f.options, &rep);
  if (!s.ok()) {
    std::cerr << "optic report: " << s.ToString() << "\n";
    return 2;
  }
  for (const auto& w : rep.results.warnings) std::cerr << "optic report: warning: " << w.ToString() << "\n";
  if (rep.base) {
    for (const auto& w : rep.base->warnings) std::cerr << "optic report: warning: " << w.ToString() << "\n";
  }
  if (!f.quiet) s = report::MakeTerminalReporter()->Write(rep, std::cout);
  if (s.ok() && !f.html.empty()) {
    s = WriteFile(f.html, *report::MakeHtmlReporter(f.chartjs), rep);
    if (s.ok()) std::cerr << "optic report: wrote " << f.html << "\n";
  }
  if (s.ok() && !f.markdown.empty()) {
    s = WriteFile(f.markdown, *report::MakeMarkdownReporter(), rep);
    if (s.ok()) std::cerr << "optic report: wrote " << f.markdown << "\n";
  }
  if (!s.ok()) {
    std::cerr << "optic report: " << s.ToString() << "\n";
    return 2;
  }
  if (f.fail_on_regression && rep.comparison && rep.comparison->regressions > 0) return 1;
  return 0;
}

void AddReportCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("report", "Turn results files into tables, Markdown and an HTML page");
  auto f = std::make_shared<Flags>();
  cmd->add_option("results", f->options.inputs, "results files (.jsonl, schema v1)")->required();
  cmd->add_option("-o,--output", f->html, "write the self-contained HTML report here");
  cmd->add_option("--markdown", f->markdown, "write a Markdown summary here");
  cmd->add_option("--compare", f->options.compare_base,
                  "base results file: rows matched by cell_id, ratios new/base");
  cmd->add_option("--regression-threshold", f->options.regression_threshold,
                  "relative change that counts as a regression (default 0.05)")
      ->check(CLI::Range(0.0, 0.99));
  cmd->add_flag("--fail-on-regression", f->fail_on_regression, "exit 1 when --compare finds a regression");
  cmd->add_flag("--strict", f->options.strict, "a malformed line is an error (default: skipped with a warning)");
  cmd->add_option("--title", f->options.title, "page and summary title");
  cmd->add_option("--chartjs", f->chartjs, "Chart.js file to embed ($OPTIC_CHARTJS or Debian's libjs-chart.js)");
  cmd->add_flag("-q,--quiet", f->quiet, "do not print the terminal table");
  cmd->callback([&ctx, f] {
    try {
      ctx.exit_code = Run(*f);
    } catch (const std::exception& e) {  // a broken invariant, never bad input (that is a Status)
      std::cerr << "optic report: internal error: " << e.what() << "\n";
      ctx.exit_code = 2;
    }
  });
}

const CommandRegistrar kRegistrar("report", AddReportCommand);

}  // namespace

}  // namespace optic::cli
