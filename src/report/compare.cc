// Before/after comparison of two results sets (see analysis.h).
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "report/analysis.h"

namespace optic::report {

namespace {

// MatchKey plus the backend options: cell_id does not name them, and torch with and without
// cuda_graph are different cells, not a before and an after.
std::string CellKey(const Row& r) {
  const std::string options = r.OptionsLabel();
  return options.empty() ? r.MatchKey() : r.MatchKey() + " " + options;
}

// Keys are CellKey, qualified by hardware when a side holds the same cell from several machines.
std::map<std::string, const Row*> Index(const std::vector<Row>& rows, bool with_hardware) {
  std::map<std::string, const Row*> out;
  for (const Row& r : rows) {
    out[with_hardware ? CellKey(r) + " @ " + r.Hardware() : CellKey(r)] = &r;
  }
  return out;
}

bool HasDuplicateKeys(const std::vector<Row>& rows) {
  std::set<std::string> seen;
  for (const Row& r : rows) {
    if (!seen.insert(CellKey(r)).second) return true;
  }
  return false;
}

std::string Percent(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", (ratio - 1) * 100);
  return buf;
}

void Judge(double threshold, ComparisonRow* c) {
  const Row& b = *c->before;
  const Row& a = *c->after;
  if (b.ok() && !a.ok()) {
    c->regression = true;
    c->note = "status ok -> " + a.status;
    return;
  }
  if (!b.ok() && a.ok()) {
    c->improvement = true;
    c->note = "status " + b.status + " -> ok";
    return;
  }
  if (!b.ok()) return;
  auto ratio = [](const std::optional<double>& x, const std::optional<double>& y) {
    return (x && y && *x > 0) ? std::optional<double>(*y / *x) : std::nullopt;
  };
  c->throughput_ratio = ratio(b.throughput_per_s, a.throughput_per_s);
  c->p50_ratio = ratio(b.latency_ms.p50, a.latency_ms.p50);
  // An invalid p99 (too few samples) on either side cannot decide a regression.
  if (b.p99_valid && a.p99_valid) c->p99_ratio = ratio(b.latency_ms.p99, a.latency_ms.p99);
  std::vector<std::string> worse, better;
  if (c->throughput_ratio) {
    if (*c->throughput_ratio < 1 - threshold) worse.push_back("throughput " + Percent(*c->throughput_ratio));
    if (*c->throughput_ratio > 1 + threshold) better.push_back("throughput " + Percent(*c->throughput_ratio));
  }
  for (auto [name, r] : {std::pair{"p50", c->p50_ratio}, {"p99", c->p99_ratio}}) {
    if (!r) continue;
    if (*r > 1 + threshold) worse.push_back(std::string(name) + " " + Percent(*r));
    if (*r < 1 - threshold) better.push_back(std::string(name) + " " + Percent(*r));
  }
  c->regression = !worse.empty();
  c->improvement = worse.empty() && !better.empty();
  for (const auto& w : (worse.empty() ? better : worse)) c->note += (c->note.empty() ? "" : ", ") + w;
  if (a.unstable() || b.unstable()) c->note += c->note.empty() ? "unstable" : " (unstable)";
}

}  // namespace

Comparison Compare(const std::vector<Row>& before, const std::vector<Row>& after, double threshold) {
  Comparison out;
  out.threshold = threshold;
  const bool with_hw = HasDuplicateKeys(before) || HasDuplicateKeys(after);
  auto b = Index(before, with_hw), a = Index(after, with_hw);
  std::set<std::string> keys;
  for (const auto& [k, r] : b) keys.insert(k);
  for (const auto& [k, r] : a) keys.insert(k);
  for (const auto& k : keys) {
    ComparisonRow c;
    c.key = k;
    c.before = b.count(k) ? b[k] : nullptr;
    c.after = a.count(k) ? a[k] : nullptr;
    c.label = (c.after ? c.after : c.before)->Label();
    if (c.before && c.after) {
      Judge(threshold, &c);
    } else {
      c.note = c.before ? "only in base" : "only in new";
    }
    out.regressions += c.regression;
    out.improvements += c.improvement;
    out.rows.push_back(std::move(c));
  }
  return out;
}

}  // namespace optic::report
