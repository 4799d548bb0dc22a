#include "results/repeats.h"

#include "measure/stats.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace optic::results {

namespace {

// measure::Median: one of the repeats' own values (the upper middle of an even count), so the
// shown median is a measured run, by the percentile definition every row uses.
std::optional<double> Median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  return measure::Median(std::move(v));
}

// The median of one optional field over the members that have it.
std::optional<double> MedianOf(const std::vector<Row>& rows, const std::vector<size_t>& members,
                               std::optional<double> Row::*field) {
  std::vector<double> v;
  for (size_t i : members) {
    if (rows[i].*field) v.push_back(*(rows[i].*field));
  }
  return Median(std::move(v));
}

std::optional<double> LatencyMedian(const std::vector<Row>& rows, const std::vector<size_t>& members,
                                    std::optional<double> LatencyMs::*field) {
  std::vector<double> v;
  for (size_t i : members) {
    if (rows[i].latency_ms.*field) v.push_back(*(rows[i].latency_ms.*field));
  }
  return Median(std::move(v));
}

constexpr std::optional<double> LatencyMs::*kPercentiles[] = {
    &LatencyMs::p50, &LatencyMs::p90, &LatencyMs::p95, &LatencyMs::p99,
    &LatencyMs::p999, &LatencyMs::mean, &LatencyMs::min, &LatencyMs::max};

std::string CellKey(const Row& r) {
  return r.file + "\n" + JsonString(r.host, "hostname") + "\n" + r.MatchKey() + "\n" + r.OptionsLabel();
}

}  // namespace

std::vector<RepeatAggregate> AggregateRepeats(const std::vector<Row>& rows) {
  struct Cell {
    std::map<int, size_t> by_repeat;  // repeat index -> latest row with it
    int repeats = 1;                  // `repeats` of the latest row
  };
  std::vector<Cell> cells;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (!r.ok()) continue;
    auto [it, inserted] = index.emplace(CellKey(r), cells.size());
    if (inserted) cells.emplace_back();
    Cell& c = cells[it->second];
    c.by_repeat[r.repeat_index()] = i;
    c.repeats = r.repeat_count();
  }
  std::vector<RepeatAggregate> out;
  out.reserve(cells.size());
  for (const Cell& c : cells) {
    RepeatAggregate a;
    for (const auto& [repeat, i] : c.by_repeat) {
      if (repeat <= c.repeats || c.by_repeat.size() == 1) a.members.push_back(i);
    }
    a.throughput_per_s = MedianOf(rows, a.members, &Row::throughput_per_s);
    for (auto field : kPercentiles) a.latency_ms.*field = LatencyMedian(rows, a.members, field);
    double lo = 0, hi = 0;
    int n = 0;
    for (size_t i : a.members) {
      if (!rows[i].throughput_per_s) continue;
      const double t = *rows[i].throughput_per_s;
      lo = n ? std::min(lo, t) : t;
      hi = n ? std::max(hi, t) : t;
      ++n;
    }
    if (n >= 2 && lo > 0) a.spread = hi / lo;
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<Row> CollapseRepeats(const std::vector<Row>& rows) {
  std::vector<const RepeatAggregate*> head(rows.size(), nullptr);  // first row of a cell -> it
  const std::vector<RepeatAggregate> cells = AggregateRepeats(rows);
  std::set<std::string> collapsed;  // cells of several repeats
  for (const RepeatAggregate& a : cells) {
    if (a.members.size() < 2) continue;  // one ok row stands for itself, exactly as read
    head[*std::min_element(a.members.begin(), a.members.end())] = &a;
    collapsed.insert(CellKey(rows[a.members[0]]));
  }
  // Every other ok row of such a cell goes: the other repeats, and rows they replaced.
  std::vector<bool> drop(rows.size(), false);
  for (size_t i = 0; i < rows.size(); ++i) {
    drop[i] = rows[i].ok() && !head[i] && !collapsed.empty() && collapsed.count(CellKey(rows[i]));
  }
  std::vector<Row> out;
  out.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (drop[i]) continue;
    if (!head[i]) {
      out.push_back(rows[i]);
      continue;
    }
    const RepeatAggregate& a = *head[i];
    Row r = rows[a.members[0]];  // the lowest repeat index: identity, settings, host
    r.throughput_per_s = a.throughput_per_s;
    r.latency_ms = a.latency_ms;
    for (auto field : {&Row::power_w, &Row::energy_j_per_inference,
                       &Row::cpu_energy_j_per_inference}) {
      r.*field = MedianOf(rows, a.members, field);
    }
    long long samples = 0;
    bool have_samples = false;
    r.stable.reset();
    r.contended.reset();
    r.host_other_cpu.reset();
    for (size_t m : a.members) {
      const Row& x = rows[m];
      if (x.samples) samples += *x.samples, have_samples = true;
      if (x.stable) r.stable = r.stable.value_or(true) && *x.stable;
      if (x.contended) r.contended = r.contended.value_or(false) || *x.contended;
      if (x.host_other_cpu) r.host_other_cpu = std::max(r.host_other_cpu.value_or(0.0), *x.host_other_cpu);
      r.p90_valid = r.p90_valid && x.p90_valid;
      r.p99_valid = r.p99_valid && x.p99_valid;
      r.p999_valid = r.p999_valid && x.p999_valid;
    }
    if (have_samples) r.samples = samples;
    r.repeats_aggregated = static_cast<int>(a.members.size());
    r.repeat_spread = a.spread;
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> SpreadViolations(const std::vector<Row>& collapsed) {
  std::vector<std::string> out;
  for (const Row& r : collapsed) {
    if (!r.repeat_spread || *r.repeat_spread <= kRepeatSpreadRule) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, ": %.2f over %d repeats", *r.repeat_spread, r.repeats_aggregated);
    out.push_back(r.Label() + (r.scenario.empty() ? "" : " " + r.scenario) + buf);
  }
  return out;
}

}  // namespace optic::results
