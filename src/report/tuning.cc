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

std::vector<ModelSettingsWinner> ModelSettingsWinners(const std::vector<Row>& rows) {
  std::map<std::pair<std::string, std::string>, std::vector<const Row*>> groups;
  for (const Row& r : rows) {
    if (Competes(r)) groups[{r.Hardware(), r.model}].push_back(&r);
  }
  std::vector<ModelSettingsWinner> out;
  for (const auto& [key, rs] : groups) {
    const Row* best = nullptr;
    const Row* best_default = nullptr;
    bool tuned = false;
    for (const Row* r : rs) {
      const bool is_default = SettingsLabel(*r) == "defaults";
      tuned |= !is_default;
      if (!best || *r->throughput_per_s > *best->throughput_per_s) best = r;
      if (is_default && (!best_default || *r->throughput_per_s > *best_default->throughput_per_s)) {
        best_default = r;
      }
    }
    if (!tuned) continue;
    ModelSettingsWinner w;
    w.hardware = key.first;
    w.model = key.second;
    w.backend = best->backend;
    w.settings = SettingsLabel(*best);
    w.precision = best->precision;
    w.batch_size = best->batch_size;
    w.throughput = *best->throughput_per_s;
    for (const Row* r : rs) {
      if (r->backend == best->backend && r->device == best->device &&
          r->precision == best->precision && r->batch_size == best->batch_size &&
          r->scenario == best->scenario && SettingsLabel(*r) == "defaults" &&
          *r->throughput_per_s > w.own_default_throughput) {
        w.own_default_throughput = *r->throughput_per_s;
      }
    }
    if (w.own_default_throughput > 0) w.own_gain = w.throughput / w.own_default_throughput;
    if (best_default) {
      w.best_default_backend = best_default->backend;
      w.best_default_batch = best_default->batch_size;
      w.best_default_throughput = *best_default->throughput_per_s;
      w.gain_over_best_default = w.throughput / w.best_default_throughput;
    }
    out.push_back(std::move(w));
  }
  return out;
}

std::vector<BackendGainSummary> SummarizeGains(const std::vector<SettingsGain>& gains) {
  std::map<std::string, std::vector<double>> by_backend;
  for (const auto& g : gains) by_backend[g.backend].push_back(g.gain);
  std::vector<BackendGainSummary> out;
  for (auto& [backend, v] : by_backend) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    BackendGainSummary s;
    s.backend = backend;
    s.cells = static_cast<int>(n);
    s.median_gain = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    s.min_gain = v.front();
    s.max_gain = v.back();
    out.push_back(s);
  }
  return out;
}

}  // namespace optic::report
