// BuildReport and formatting helpers shared by the reporters.
#include "report/report.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "results/repeats.h"

namespace optic::report {

namespace {

// Per file, one warning naming every cell whose repeats disagree by more than the stability rule.
void WarnAboutSpread(ResultsSet* set) {
  for (const std::string& file : set->files) {
    std::vector<Row> rows;
    for (const Row& r : set->rows) {
      if (r.file == file && r.repeat_spread) rows.push_back(r);
    }
    const std::vector<std::string> cells = results::SpreadViolations(rows);
    if (cells.empty()) continue;
    std::string text = std::to_string(cells.size()) + " cell(s) vary more than " +
                       std::to_string(static_cast<int>((results::kRepeatSpreadRule - 1) * 100 + 0.5)) +
                       "% in throughput (max/min) across repeats; the report shows their medians:";
    for (size_t i = 0; i < cells.size(); ++i) text += (i ? "; " : " ") + cells[i];
    set->warnings.push_back({file, 0, text});
  }
}

}  // namespace

Status BuildReport(const ReportOptions& options, Report* out) {
  if (options.inputs.empty()) return Status::InvalidArgument("no results files given");
  if (!(options.regression_threshold >= 0 && options.regression_threshold < 1)) {
    return Status::InvalidArgument("regression threshold must be in [0, 1)");
  }
  out->options = options;
  LoadOptions load{options.strict};
  for (const auto& path : options.inputs) {
    OPTIC_RETURN_IF_ERROR(LoadResultsFile(path, load, &out->results));
  }
  if (out->results.rows.empty()) {
    return Status::InvalidArgument("no usable rows in the results files given");
  }
  // Repeats of a cell become one row of medians before anything is drawn or compared.
  out->results.rows = results::CollapseRepeats(out->results.rows);
  WarnAboutSpread(&out->results);
  if (!options.compare_base.empty()) {
    ResultsSet base;
    OPTIC_RETURN_IF_ERROR(LoadResultsFile(options.compare_base, load, &base));
    base.rows = results::CollapseRepeats(base.rows);
    WarnAboutSpread(&base);
    out->base = std::move(base);
    out->comparison = Compare(out->base->rows, out->results.rows, options.regression_threshold);
  }
  out->winners = SelectWinners(out->results.rows);
  out->matrix = BuildBackendPrecisionMatrix(out->results.rows);
  out->power_fits = FitPowerByHardware(out->results.rows);
  out->speedups = PrecisionSpeedups(out->results.rows);
  out->settings_gains = SettingsGains(out->results.rows);
  out->settings_winners = ModelSettingsWinners(out->results.rows);
  out->pareto = ParetoFronts(out->results.rows);
  return Status::OK();
}

std::string DefaultChartJsPath() {
  const char* env = std::getenv("OPTIC_CHARTJS");
  if (env && *env) return env;
  return "/usr/share/javascript/chart.js/chart.min.js";
}

std::string Fmt(const std::optional<double>& v, int precision) {
  if (!v || !std::isfinite(*v)) return "-";
  char buf[64];
  const double a = std::fabs(*v);
  if (a != 0 && (a < 1e-3 || a >= 1e7)) {
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, *v);
  } else if (a >= std::pow(10.0, precision)) {
    std::snprintf(buf, sizeof buf, "%.0f", *v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*g", precision, *v);
  }
  return buf;
}

}  // namespace optic::report
