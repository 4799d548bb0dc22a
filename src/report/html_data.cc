// The JSON embedded in the HTML page: rows in a fixed shape plus the analyses computed in C++,
// so the page's script only draws (and the numbers are the ones the unit tests check).
#include <set>

#include "report/html_data.h"

namespace optic::report {

namespace {

using nlohmann::json;

json Opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json EntryJson(const std::optional<Entry>& e) {
  if (!e) return nullptr;
  return {{"backend", e->backend}, {"config", e->config}, {"precision", e->precision}, {"batch_size", e->batch_size},
          {"value", e->value},     {"unstable", e->unstable},   {"parity_checked", e->parity_checked}, {"where", e->file + ":" + std::to_string(e->line)}};
}

json RowJson(const Row& r, int id, const SeriesInfo& series) {
  json stages = json::array();
  for (const auto& [name, ms] : r.stages_ms) stages.push_back({name, ms});
  const LatencyMs& l = r.latency_ms;
  return {{"id", id},
          {"where", r.file + ":" + std::to_string(r.line)},
          {"kind", r.kind},
          {"cell_id", r.cell_id},
          {"run_id", r.run_id},
          {"hardware", r.Hardware()},
          {"hostname", JsonString(r.host, "hostname")},
          {"label", r.Label()},
          {"model", r.model},
          {"backend", r.backend},
          {"config", r.Config()},
          {"options", r.OptionsLabel()},
          {"series", series.label},
          {"color_key", series.color_key},
          {"device", r.device},
          {"precision", r.precision},
          {"batch_size", r.batch_size},
          {"threads", r.threads},
          {"scenario", r.scenario},
          {"status", r.status},
          {"error", r.error},
          {"throughput", Opt(r.throughput_per_s)},
          {"latency", {{"p50", Opt(l.p50)}, {"p90", Opt(l.p90)}, {"p95", Opt(l.p95)},
                       {"p99", Opt(l.p99)}, {"p999", Opt(l.p999)}, {"mean", Opt(l.mean)}}},
          {"valid", {{"p90", r.p90_valid}, {"p99", r.p99_valid}, {"p999", r.p999_valid}}},
          {"samples", r.samples ? json(*r.samples) : json(nullptr)},
          {"stable", r.stable ? json(*r.stable) : json(nullptr)},
          {"load_cold_s", Opt(r.load_cold_s)},
          {"load_cached_s", Opt(r.load_cached_s)},
          {"first_inference_ms", Opt(r.first_inference_ms)},
          {"peak_rss_mb", Opt(r.peak_rss_mb)},
          {"gpu_mem_peak_mb", Opt(r.gpu_mem_peak_mb)},
          {"power_w", Opt(r.power_w)},
          {"energy_j", Opt(r.energy_j_per_inference)},
          {"cpu_energy_j", Opt(r.cpu_energy_j_per_inference)},
          {"max_abs_err", Opt(r.max_abs_err)},
          {"max_rel_err", Opt(r.max_rel_err)},
          {"rel_l2_err", Opt(r.rel_l2_err)},
          {"cosine_similarity", Opt(r.cosine_similarity)},
          {"top1_agreement", Opt(r.top1_agreement)},
          {"top5_agreement", Opt(r.top5_agreement)},
          {"parity_pass", r.parity_pass ? json(*r.parity_pass) : json(nullptr)},
          {"parity_failure", r.parity_failure},
          {"parity_reference", r.parity_reference},
          {"stages_ms", stages},
          {"concurrency", r.concurrency ? json(*r.concurrency) : json(nullptr)},
          {"server", r.server},
          {"repeats", r.repeats_aggregated},
          {"repeat_spread", Opt(r.repeat_spread)},
          {"contended", r.contended ? json(*r.contended) : json(nullptr)},
          {"host_other_cpu", Opt(r.host_other_cpu)}};
}

json Machines(const std::vector<Row>& rows) {
  json out = json::array();
  std::set<std::string> seen;
  for (const Row& r : rows) {
    json m = {{"host", r.host}, {"versions", r.versions}};
    if (seen.insert(m.dump()).second) out.push_back(m);
  }
  return out;
}

json Commands(const std::vector<Row>& rows) {
  std::map<std::pair<std::string, std::string>, int> count;
  for (const Row& r : rows) ++count[{r.command, r.run_id}];
  json out = json::array();
  for (const auto& [k, n] : count) out.push_back({{"command", k.first}, {"run_id", k.second}, {"rows", n}});
  return out;
}

json Warnings(const Report& rep) {
  json out = json::array();
  for (const auto& w : rep.results.warnings) out.push_back(w.ToString());
  if (rep.base) for (const auto& w : rep.base->warnings) out.push_back("base: " + w.ToString());
  return out;
}

}  // namespace

nlohmann::json ReportJson(const Report& rep) {
  json rows = json::array();
  int id = 0;
  const std::vector<SeriesInfo> series = AssignSeries(rep.results.rows);
  for (const Row& r : rep.results.rows) {
    rows.push_back(RowJson(r, id, series[id]));
    ++id;
  }
  json winners = json::array();
  for (const auto& c : rep.winners) {
    winners.push_back({{"hardware", c.hardware}, {"model", c.model}, {"excluded", c.excluded}, {"parity_excluded", c.parity_excluded},
                       {"latency", EntryJson(c.best_latency)},
                       {"latency_runner_up", EntryJson(c.runner_up_latency)},
                       {"latency_tie", c.latency_tie},
                       {"throughput", EntryJson(c.best_throughput)},
                       {"throughput_runner_up", EntryJson(c.runner_up_throughput)},
                       {"throughput_tie", c.throughput_tie}});
  }
  json fits = json::array();
  for (const auto& f : rep.power_fits) {
    fits.push_back({{"hardware", f.hardware}, {"a", f.law.a}, {"b", f.law.b}, {"r2", f.law.r2}, {"n", f.law.n}});
  }
  json speedups = json::array();
  for (const auto& s : rep.speedups) {
    speedups.push_back({{"hardware", s.hardware}, {"model", s.model}, {"backend", s.backend},
                        {"config", s.config}, {"series", s.series},
                        {"device", s.device}, {"precision", s.precision}, {"batch_size", s.batch_size},
                        {"fp32_throughput", s.fp32_throughput}, {"throughput", s.throughput},
                        {"speedup", s.speedup}, {"max_abs_err", Opt(s.max_abs_err)},
                        {"top1_agreement", Opt(s.top1_agreement)},
                        {"top5_agreement", Opt(s.top5_agreement)},
                        {"cosine_similarity", Opt(s.cosine_similarity)},
                        {"rel_l2_err", Opt(s.rel_l2_err)},
                        {"parity_pass", s.parity_pass ? json(*s.parity_pass) : json(nullptr)}});
  }
  json gains = json::array();
  for (const auto& g : rep.settings_gains) {
    gains.push_back({{"hardware", g.hardware}, {"model", g.model}, {"backend", g.backend},
                     {"device", g.device}, {"precision", g.precision}, {"batch_size", g.batch_size},
                     {"scenario", g.scenario}, {"default_throughput", g.default_throughput},
                     {"best_throughput", g.best_throughput}, {"gain", g.gain},
                     {"best_config", g.best_config}, {"configurations", g.configurations}});
  }
  json settings_winners = json::array();
  for (const auto& w : rep.settings_winners) {
    settings_winners.push_back(
        {{"hardware", w.hardware}, {"model", w.model}, {"backend", w.backend},
         {"settings", w.settings}, {"precision", w.precision}, {"batch_size", w.batch_size},
         {"throughput", w.throughput}, {"own_default_throughput", w.own_default_throughput},
         {"own_gain", w.own_gain}, {"best_default_backend", w.best_default_backend},
         {"best_default_batch", w.best_default_batch},
         {"best_default_throughput", w.best_default_throughput},
         {"gain_over_best_default", w.gain_over_best_default}});
  }
  auto best_json = [](const std::optional<MatrixBest>& b) -> json {
    if (!b) return nullptr;
    return {{"value", b->value}, {"batch_size", b->batch_size}, {"settings", b->settings},
            {"unstable", b->unstable}, {"parity_checked", b->parity_checked}};
  };
  json matrix_columns = json::array(), matrix_lines = json::array();
  for (const auto& c : rep.matrix.columns) {
    matrix_columns.push_back({{"backend", c.backend}, {"precision", c.precision}});
  }
  for (const auto& l : rep.matrix.lines) {
    json cells = json::array();
    for (const auto& c : l.cells) {
      cells.push_back({{"throughput", best_json(c.throughput)}, {"latency", best_json(c.latency)},
                       {"empty_status", c.empty_status}, {"reason", c.reason},
                       {"timeout", c.timeout}, {"failed", c.failed},
                       {"parity_excluded", c.parity_excluded}});
    }
    matrix_lines.push_back({{"hardware", l.hardware}, {"model", l.model}, {"cells", cells},
                            {"best_throughput", l.best_throughput},
                            {"best_latency", l.best_latency},
                            {"throughput_margin", l.throughput_margin},
                            {"latency_margin", l.latency_margin}});
  }
  json pareto = json::array();
  for (const auto& f : rep.pareto) {
    json ids = json::array();
    for (const auto& p : f.points) ids.push_back(p.row);
    pareto.push_back({{"hardware", f.hardware}, {"model", f.model}, {"rows", ids}});
  }
  json out = {{"title", rep.options.title}, {"inputs", rep.results.files}, {"rows", rows},
              {"winners", winners}, {"power_fits", fits}, {"speedups", speedups},
              {"settings_gains", gains}, {"settings_winners", settings_winners},
              {"pareto", pareto},
              {"matrix", {{"columns", matrix_columns}, {"lines", matrix_lines}}},
              {"machines", Machines(rep.results.rows)}, {"commands", Commands(rep.results.rows)},
              {"warnings", Warnings(rep)}, {"comparison", nullptr}};
  if (rep.comparison) {
    const Comparison& c = *rep.comparison;
    json cmp = json::array();
    for (const auto& r : c.rows) {
      auto side = [](const Row* x) {
        if (!x) return json(nullptr);
        return json{{"status", x->status}, {"throughput", Opt(x->throughput_per_s)},
                    {"p50", Opt(x->latency_ms.p50)}, {"p99", Opt(x->latency_ms.p99)},
                    {"hardware", x->Hardware()}};
      };
      cmp.push_back({{"key", r.key}, {"label", r.label}, {"before", side(r.before)},
                     {"after", side(r.after)}, {"throughput_ratio", Opt(r.throughput_ratio)},
                     {"p50_ratio", Opt(r.p50_ratio)}, {"p99_ratio", Opt(r.p99_ratio)},
                     {"regression", r.regression}, {"improvement", r.improvement}, {"note", r.note}});
    }
    out["comparison"] = {{"base", rep.options.compare_base}, {"threshold", c.threshold},
                         {"regressions", c.regressions}, {"improvements", c.improvements},
                         {"rows", cmp}, {"base_machines", Machines(rep.base->rows)}};
  }
  return out;
}

}  // namespace optic::report
