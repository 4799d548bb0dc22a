// The report model and the reporter interface. A Report is built once from the loaded results
// (rows, analyses, optional comparison); each output format is one Reporter in its own file
// (terminal_reporter.cc, markdown_reporter.cc, html_reporter.cc), like google/benchmark's
// console/JSON/CSV reporters.
// Ownership: a Report owns its results sets; Comparison rows point into them, so a Report is
// not copyable. Threading: reporters are stateless; Write may run on any thread.
// Failure: Write returns a Status (an unreadable Chart.js file, a stream error); it never throws.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "optic/status.h"
#include "report/analysis.h"
#include "report/matrix.h"
#include "report/results.h"
#include "report/tuning.h"

namespace optic::report {

struct ReportOptions {
  std::vector<std::string> inputs;
  std::string compare_base;           // empty: no comparison
  double regression_threshold = 0.05;
  bool strict = false;                // malformed lines are errors, not skipped lines
  std::string title = "optic benchmark report";
};

struct Report {
  Report() = default;
  Report(const Report&) = delete;
  Report& operator=(const Report&) = delete;

  ReportOptions options;
  ResultsSet results;
  std::optional<ResultsSet> base;  // --compare
  std::vector<WinnerCell> winners;
  BackendPrecisionMatrix matrix;  // the winner matrix across backends x precisions
  std::vector<PowerFit> power_fits;
  std::vector<Speedup> speedups;
  std::vector<SettingsGain> settings_gains;  // the settings search (report/tuning.h)
  std::vector<ModelSettingsWinner> settings_winners;
  std::vector<ParetoFront> pareto;
  std::optional<Comparison> comparison;
};

// Loads every input (and the base), then runs the analyses. Errors name the file and line.
Status BuildReport(const ReportOptions& options, Report* out);

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual Status Write(const Report& report, std::ostream& out) const = 0;
};

std::unique_ptr<Reporter> MakeTerminalReporter();
std::unique_ptr<Reporter> MakeMarkdownReporter();
// Reads Chart.js from `chartjs_path` at Write time and embeds it, so the page works offline.
std::unique_ptr<Reporter> MakeHtmlReporter(std::string chartjs_path);

// $OPTIC_CHARTJS, else Debian's libjs-chart.js file.
std::string DefaultChartJsPath();

// Shared number formatting: "-" for absent values, 3 significant digits otherwise.
std::string Fmt(const std::optional<double>& v, int precision = 3);

}  // namespace optic::report
