// Power-law fit, winner selection and precision speed-ups (see analysis.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "report/analysis.h"

namespace optic::report {

Status FitPowerLaw(const std::vector<double>& x, const std::vector<double>& y, PowerLaw* out) {
  if (x.size() != y.size()) return Status::InvalidArgument("x and y differ in length");
  const size_t n = x.size();
  if (n < 2) return Status::InvalidArgument("a power-law fit needs at least 2 points");
  double sx = 0, sy = 0;
  std::vector<double> lx(n), ly(n);
  for (size_t i = 0; i < n; ++i) {
    if (!(x[i] > 0) || !(y[i] > 0) || !std::isfinite(x[i]) || !std::isfinite(y[i])) {
      return Status::InvalidArgument("a power-law fit needs positive finite values");
    }
    lx[i] = std::log(x[i]);
    ly[i] = std::log(y[i]);
    sx += lx[i];
    sy += ly[i];
  }
  const double mx = sx / n, my = sy / n;
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (lx[i] - mx) * (lx[i] - mx);
    sxy += (lx[i] - mx) * (ly[i] - my);
    syy += (ly[i] - my) * (ly[i] - my);
  }
  if (sxx <= 1e-12 * std::max(1.0, mx * mx)) {
    return Status::InvalidArgument("a power-law fit needs at least 2 distinct x values");
  }
  out->b = sxy / sxx;
  out->a = std::exp(my - out->b * mx);
  // All y equal is a perfect (flat) fit, not an undefined one.
  out->r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1.0;
  out->n = static_cast<int>(n);
  return Status::OK();
}

std::vector<PowerFit> FitPowerByHardware(const std::vector<Row>& rows) {
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> points;
  for (const Row& r : rows) {
    if (!r.ok() || !r.power_w || !r.throughput_per_s) continue;
    if (*r.power_w <= 0 || *r.throughput_per_s <= 0) continue;
    auto& p = points[r.Hardware()];
    p.first.push_back(*r.throughput_per_s);
    p.second.push_back(*r.power_w);
  }
  std::vector<PowerFit> fits;
  for (const auto& [hardware, xy] : points) {
    PowerFit f{hardware, {}};
    if (xy.first.size() >= 3 && FitPowerLaw(xy.first, xy.second, &f.law).ok()) fits.push_back(f);
  }
  return fits;
}

namespace {

bool Competes(const Row& r) {
  return r.kind == "bench" &&
         (r.scenario.empty() || r.scenario == "offline" || r.scenario == "single_stream");
}

// Best entry per configuration, then winner and runner-up. `better(a, b)`: a strictly better than b.
template <typename Better>
void Rank(const std::map<std::string, Entry>& best_by_config, Better better,
          std::optional<Entry>* winner, std::optional<Entry>* runner_up, bool* tie) {
  std::vector<Entry> all;
  for (const auto& [config, e] : best_by_config) all.push_back(e);
  // Stable on configuration name (the map's order), so ties resolve alphabetically and reproducibly.
  std::stable_sort(all.begin(), all.end(),
                   [&](const Entry& a, const Entry& b) { return better(a.value, b.value); });
  if (!all.empty()) *winner = all[0];
  if (all.size() > 1) {
    *runner_up = all[1];
    *tie = !better(all[0].value, all[1].value) && !better(all[1].value, all[0].value);
  }
}

}  // namespace

std::vector<WinnerCell> SelectWinners(const std::vector<Row>& rows) {
  struct Acc {
    std::map<std::string, Entry> latency, throughput;
    int excluded = 0, parity_excluded = 0;
  };
  std::map<std::pair<std::string, std::string>, Acc> cells;
  for (const Row& r : rows) {
    if (!Competes(r)) continue;
    Acc& acc = cells[{r.Hardware(), r.model}];
    if (!r.ok()) {
      ++acc.excluded;
      continue;
    }
    if (r.parity_failed()) {
      ++acc.parity_excluded;
      continue;
    }
    Entry e{r.backend, r.Config(), r.precision, r.batch_size, 0, r.unstable(),
            r.parity_pass.has_value(), r.file, r.line};
    if (r.latency_ms.p50) {
      e.value = *r.latency_ms.p50;
      auto [it, inserted] = acc.latency.emplace(e.config, e);
      if (!inserted && e.value < it->second.value) it->second = e;
    }
    if (r.throughput_per_s) {
      e.value = *r.throughput_per_s;
      auto [it, inserted] = acc.throughput.emplace(e.config, e);
      if (!inserted && e.value > it->second.value) it->second = e;
    }
  }
  std::vector<WinnerCell> out;
  for (const auto& [key, acc] : cells) {
    WinnerCell c;
    c.hardware = key.first;
    c.model = key.second;
    c.excluded = acc.excluded;
    c.parity_excluded = acc.parity_excluded;
    Rank(acc.latency, std::less<double>(), &c.best_latency, &c.runner_up_latency, &c.latency_tie);
    Rank(acc.throughput, std::greater<double>(), &c.best_throughput, &c.runner_up_throughput,
         &c.throughput_tie);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Speedup> PrecisionSpeedups(const std::vector<Row>& rows) {
  using Key = std::tuple<std::string, std::string, std::string, std::string, int, int,
                         std::string, std::string>;
  auto key = [](const Row& r) {
    return Key{r.Hardware(), r.model, r.Config(), r.device, r.batch_size, r.threads, r.scenario,
               r.kind};
  };
  std::multimap<Key, const Row*> fp32;
  for (const Row& r : rows) {
    if (r.ok() && r.precision == "fp32" && r.throughput_per_s && *r.throughput_per_s > 0 &&
        !r.concurrency) {
      fp32.emplace(key(r), &r);
    }
  }
  const std::vector<SeriesInfo> series = AssignSeries(rows);
  std::vector<Speedup> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (!r.ok() || r.precision == "fp32" || !r.throughput_per_s || r.concurrency) continue;
    // The fp32 row of the same run; from another run only when it is the only one (a sweep of
    // fp32 and a later one of fp16), never a guess between several runs.
    auto [lo, hi] = fp32.equal_range(key(r));
    const Row* base_row = nullptr;
    int candidates = 0;
    for (auto it = lo; it != hi; ++it) {
      ++candidates;
      const Row& f = *it->second;
      if (r.run_id.empty() ? f.file == r.file : f.run_id == r.run_id) base_row = it->second;
    }
    if (!base_row && candidates == 1) base_row = lo->second;
    if (!base_row) continue;
    const double base = *base_row->throughput_per_s;
    Speedup s{r.Hardware(), r.model, r.backend, r.Config(), r.device, r.precision, r.scenario,
              series[i].label, r.batch_size, base, *r.throughput_per_s,
              *r.throughput_per_s / base, r.max_abs_err, r.parity_pass, r.parity_failure};
    s.top1_agreement = r.top1_agreement;
    s.top5_agreement = r.top5_agreement;
    s.cosine_similarity = r.cosine_similarity;
    s.rel_l2_err = r.rel_l2_err;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const Speedup& a, const Speedup& b) {
    return std::tie(a.hardware, a.model, a.series, a.batch_size) <
           std::tie(b.hardware, b.model, b.series, b.batch_size);
  });
  return out;
}

}  // namespace optic::report
