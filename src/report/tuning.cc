#include "report/tuning.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace optic::report {
namespace {

bool Competes(const Row& r) {
  return r.ok() && !r.parity_failed() && r.throughput_per_s && *r.throughput_per_s > 0 &&
         (r.kind.empty() || r.kind == "bench") &&
         (r.scenario.empty() || r.scenario == "offline" || r.scenario == "single_stream");
}

int HostCores(const Row& r) {
  if (!r.host.is_object()) return 0;
  auto it = r.host.find("cores");
  return it != r.host.end() && it->is_number_integer() ? it->get<int>() : 0;
}

// Threads differ from the defaults only on the CPU, where the default is every core.
bool DefaultThreads(const Row& r) {
  return r.device != "cpu" || HostCores(r) == 0 || r.threads == HostCores(r);
}

}  // namespace

std::string SettingsLabel(const Row& r) {
  std::string s = r.OptionsLabel();
  if (!DefaultThreads(r)) s += (s.empty() ? "" : " ") + std::string("threads=") + std::to_string(r.threads);
  return s.empty() ? "defaults" : s;
}

std::vector<SettingsGain> SettingsGains(const std::vector<Row>& rows) {
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string, int,
                         std::string>;
  std::map<Key, std::vector<const Row*>> groups;
  for (const Row& r : rows) {
    if (!Competes(r)) continue;
    groups[{r.Hardware(), r.model, r.backend, r.device, r.precision, r.batch_size, r.scenario}]
        .push_back(&r);
  }
  std::vector<SettingsGain> out;
  for (const auto& [key, rs] : groups) {
    const Row* def = nullptr;
    const Row* best = nullptr;
    for (const Row* r : rs) {
      if (SettingsLabel(*r) == "defaults" &&
          (!def || *r->throughput_per_s > *def->throughput_per_s)) {
        def = r;
      }
      if (!best || *r->throughput_per_s > *best->throughput_per_s) best = r;
    }
    std::map<std::string, int> configs;
    for (const Row* r : rs) ++configs[SettingsLabel(*r)];
    if (!def || configs.size() < 2) continue;
    SettingsGain g;
    std::tie(g.hardware, g.model, g.backend, g.device, g.precision, g.batch_size, g.scenario) = key;
    g.default_throughput = *def->throughput_per_s;
    g.best_throughput = *best->throughput_per_s;
    g.gain = g.best_throughput / g.default_throughput;
    g.best_config = SettingsLabel(*best);
    g.configurations = static_cast<int>(configs.size());
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<ParetoFront> ParetoFronts(const std::vector<Row>& rows) {
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> groups;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (!Competes(r) || !r.latency_ms.p50 || *r.latency_ms.p50 <= 0) continue;
    groups[{r.Hardware(), r.model}].push_back(i);
  }
  std::vector<ParetoFront> out;
  for (const auto& [key, idx] : groups) {
    ParetoFront f;
    f.hardware = key.first;
    f.model = key.second;
    f.candidates = static_cast<int>(idx.size());
    for (size_t i : idx) {
      const Row& a = rows[i];
      const double la = *a.latency_ms.p50, ta = *a.throughput_per_s;
      bool dominated = false;
      for (size_t j : idx) {
        if (j == i) continue;
        const double lb = *rows[j].latency_ms.p50, tb = *rows[j].throughput_per_s;
        if (lb <= la && tb >= ta && (lb < la || tb > ta)) {
          dominated = true;
          break;
        }
      }
      if (dominated) continue;
      ParetoPoint p;
      const std::string settings = SettingsLabel(a);
      p.config = a.backend + (settings == "defaults" ? "" : " " + settings);
      p.precision = a.precision;
      p.batch_size = a.batch_size;
      p.threads = a.threads;
      p.p50_ms = la;
      p.throughput = ta;
      p.row = i;
      f.points.push_back(std::move(p));
    }
    std::sort(f.points.begin(), f.points.end(),
              [](const ParetoPoint& x, const ParetoPoint& y) { return x.p50_ms < y.p50_ms; });
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace optic::report
