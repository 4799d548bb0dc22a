#include "bench/tune.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>

#include "optic/registry.h"
#include "results/row.h"

namespace optic::bench {
namespace {

// Values tried away from each backend's default, for the knobs that move its speed; a key the
// backend does not declare (option_specs) is left out, so the table may name keys a build lacks.
struct Entry {
  const char* backend;
  const char* key;
  std::vector<std::string> values;
  enum { kAny, kCpu, kCuda } where = kAny;
};

const std::vector<Entry>& Table() {
  static const std::vector<Entry> table = {
      {"onnxruntime", "graph_optimization", {"basic", "extended"}},
      {"onnxruntime", "allow_spinning", {"false"}, Entry::kCpu},
      {"onnxruntime", "cuda_graph", {"true"}, Entry::kCuda},
      {"onnxruntime", "prefer_nhwc", {"true"}, Entry::kCuda},
      {"onnxruntime", "cudnn_conv_algo_search", {"heuristic"}, Entry::kCuda},
      {"openvino", "performance_hint", {"throughput", "none"}},
      {"openvino", "num_streams", {"1", "2"}},
      {"openvino", "enable_cpu_pinning", {"true"}, Entry::kCpu},
      {"torch", "channels_last", {"true"}},
      {"torch", "freeze", {"false"}},
      {"torch", "optimize", {"false"}, Entry::kCpu},
      {"torch", "cuda_graph", {"true"}, Entry::kCuda},
      {"torch", "cudnn_benchmark", {"false"}, Entry::kCuda},
      {"torch_aoti", "cuda_graph", {"true"}, Entry::kCuda},
      {"iree", "opt_level", {"O3", "O1"}},
      {"tvm", "tuning_trials", {"64"}},
  };
  return table;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// The higher the better: throughput, or queries per second of p50 latency for "latency".
std::optional<double> RowScore(const results::Row& r, const std::string& objective) {
  if (!r.ok() || r.parity_failed()) return std::nullopt;
  if (objective == "latency") {
    if (!r.latency_ms.p50 || *r.latency_ms.p50 <= 0) return std::nullopt;
    return 1000.0 / *r.latency_ms.p50;
  }
  if (!r.throughput_per_s || *r.throughput_per_s <= 0) return std::nullopt;
  return *r.throughput_per_s;
}

std::string Describe(const TuneCandidate& c) {
  std::string s;
  for (const auto& [k, v] : c.options) s += (s.empty() ? "+" : " +") + k + "=" + v;
  if (c.threads > 0) s += (s.empty() ? "" : " ") + std::string("threads=") + std::to_string(c.threads);
  return s.empty() ? "defaults" : s;
}

}  // namespace

std::vector<TuneKnob> TuneSpace(const std::string& backend, const Device& device, int cores) {
  std::vector<TuneKnob> knobs;
  std::unique_ptr<Backend> b;
  if (!CreateBackend(backend, &b).ok()) return knobs;
  std::set<std::string> declared;
  for (const auto& spec : b->option_specs()) declared.insert(spec.key);
  for (const Entry& e : Table()) {
    if (e.backend != backend || !declared.count(e.key)) continue;
    if (e.where == Entry::kCpu && !device.is_cpu()) continue;
    if (e.where == Entry::kCuda && device.is_cpu()) continue;
    knobs.push_back({e.key, e.values});
  }
  if (device.is_cpu() && cores >= 2) {
    TuneKnob threads{"threads", {}};
    for (int t : {cores / 2, 1}) {
      const std::string v = std::to_string(t);
      if (std::find(threads.values.begin(), threads.values.end(), v) == threads.values.end()) {
        threads.values.push_back(v);
      }
    }
    knobs.push_back(threads);
  }
  return knobs;
}

Status RunTune(const SweepOptions& options, const TuneOptions& tune, Progress* progress,
               TuneResult* out) {
  if (!(tune.budget_s > 0)) {
    return Status::InvalidArgument("--tune-budget-s must be > 0 seconds");
  }
  if (tune.objective != "throughput" && tune.objective != "latency") {
    return Status::InvalidArgument("--tune-objective must be throughput or latency, not '" +
                                   tune.objective + "'");
  }
  const BenchConfig& base = options.config;
  if (base.devices.size() > 1) {
    return Status::InvalidArgument(
        "the settings search tunes for one device: pass one --device (the knobs differ)");
  }
  if (base.threads.size() > 1) {
    return Status::InvalidArgument(
        "the settings search chooses the thread count itself: pass at most one --threads");
  }
  if (!base.ensemble.empty() || base.e2e) {
    return Status::InvalidArgument("the settings search runs plain cells: drop --ensemble/--e2e");
  }
  BenchConfig resolved = base;
  OPTIC_RETURN_IF_ERROR(ResolveDefaults(&resolved));
  const Device device = resolved.devices.empty() ? Device{} : resolved.devices[0];
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  // Per backend: its default first, then one candidate per knob value.
  std::vector<std::vector<TuneCandidate>> queues;
  std::vector<std::vector<TuneKnob>> spaces;
  for (const std::string& backend : resolved.backends) {
    std::vector<TuneCandidate> q;
    TuneCandidate d;
    d.backend = backend;
    d.role = "default";
    q.push_back(d);
    const auto knobs = TuneSpace(backend, device, cores);
    for (const TuneKnob& k : knobs) {
      for (const std::string& v : k.values) {
        TuneCandidate c = d;
        if (k.key == "threads") {
          c.threads = std::stoi(v);
        } else {
          c.options[k.key] = v;
        }
        c.role = "knob " + k.key + "=" + v;
        q.push_back(c);
      }
    }
    queues.push_back(std::move(q));
    spaces.push_back(knobs);
  }

  const auto start = std::chrono::steady_clock::now();
  double spent = 0;
  int runs = 0;
  auto run_one = [&](TuneCandidate* c) -> Status {
    SweepOptions o = options;
    o.config.backends = {c->backend};
    auto& opts = o.config.backend_options[c->backend];
    for (const auto& [k, v] : c->options) opts[k] = v;
    if (c->threads > 0) o.config.threads = {c->threads};
    o.config.resume = false;
    // Rows of this candidate: those of the grid written by this sweep's run.
    std::set<std::string> before;
    std::error_code ec;
    if (std::filesystem::exists(o.config.out, ec)) {
      std::vector<results::Row> old;
      OPTIC_RETURN_IF_ERROR(results::ReadFile(o.config.out, results::ReadMode::kLenient, &old, nullptr));
      for (const auto& r : old) before.insert(r.run_id);
    }
    progress->Note("tune: " + c->backend + " " + c->role + " (" + Describe(*c) + ")");
    const auto t0 = std::chrono::steady_clock::now();
    SweepResult r;
    OPTIC_RETURN_IF_ERROR(RunSweep(o, progress, &r));
    c->wall_s = Seconds(t0);
    c->run = true;
    double log_sum = 0;
    for (results::Row& row : r.rows) {
      if (before.count(row.run_id)) continue;
      ++c->rows;
      if (auto s = RowScore(row, tune.objective)) {
        ++c->ok;
        log_sum += std::log(*s);
      }
      out->sweep.rows.push_back(std::move(row));
    }
    c->score = c->ok > 0 ? std::exp(log_sum / c->ok) : 0;
    out->sweep.cells += r.cells;
    out->sweep.ok += r.ok;
    out->sweep.failed += r.failed;
    out->sweep.unsupported += r.unsupported;
    out->sweep.timeout += r.timeout;
    spent += c->wall_s;
    ++runs;
    out->candidates.push_back(*c);
    return Status::OK();
  };
  auto fits = [&] { return Seconds(start) + spent / std::max(1, runs) <= tune.budget_s; };

  // Defaults, whatever the budget; then knobs, one per backend in turn.
  for (auto& q : queues) OPTIC_RETURN_IF_ERROR(run_one(&q[0]));
  std::vector<TuneCandidate> skipped;
  for (size_t i = 1;; ++i) {
    bool any = false;
    for (auto& q : queues) {
      if (i >= q.size()) continue;
      any = true;
      if (fits()) {
        OPTIC_RETURN_IF_ERROR(run_one(&q[i]));
      } else {
        q[i].skipped = "budget";
        skipped.push_back(q[i]);
      }
    }
    if (!any) break;
  }
  // Per backend: every knob's best value that beat the default, together.
  for (size_t b = 0; b < queues.size(); ++b) {
    const TuneCandidate* def = nullptr;
    std::map<std::string, std::pair<double, std::string>> best;  // knob -> (score, value)
    for (const auto& c : out->candidates) {
      if (c.backend != queues[b][0].backend) continue;
      if (c.role == "default") {
        def = &c;
        continue;
      }
      const std::string key = c.threads > 0 ? "threads" : c.options.begin()->first;
      const std::string value = c.threads > 0 ? std::to_string(c.threads) : c.options.begin()->second;
      if (c.score > (best.count(key) ? best[key].first : 0)) best[key] = {c.score, value};
    }
    if (!def || def->score <= 0) continue;
    TuneCandidate combined;
    combined.backend = def->backend;
    combined.role = "combined";
    int winners = 0;
    for (const auto& [key, sv] : best) {
      if (sv.first <= def->score) continue;
      ++winners;
      if (key == "threads") {
        combined.threads = std::stoi(sv.second);
      } else {
        combined.options[key] = sv.second;
      }
    }
    if (winners < 2) continue;  // one winning knob: its own candidate is the combination
    if (fits()) {
      OPTIC_RETURN_IF_ERROR(run_one(&combined));
    } else {
      combined.skipped = "budget";
      skipped.push_back(combined);
    }
  }
  for (auto& c : skipped) out->candidates.push_back(c);
  return Status::OK();
}

void PrintTuneSummary(const TuneResult& result, const TuneOptions& tune, FILE* out) {
  const char* unit = tune.objective == "latency" ? "queries/s at p50" : "/s";
  std::map<std::string, std::vector<const TuneCandidate*>> by_backend;
  std::vector<std::string> order;
  for (const auto& c : result.candidates) {
    if (!by_backend.count(c.backend)) order.push_back(c.backend);
    by_backend[c.backend].push_back(&c);
  }
  std::fprintf(out, "\nsettings search (%s, geometric mean over each candidate's ok rows):\n",
               tune.objective.c_str());
  for (const auto& backend : order) {
    const TuneCandidate* def = nullptr;
    const TuneCandidate* best = nullptr;
    int ran = 0, total = 0;
    for (const TuneCandidate* c : by_backend[backend]) {
      ++total;
      if (!c->run) continue;
      ++ran;
      if (c->role == "default") def = c;
      if (c->score > 0 && (!best || c->score > best->score)) best = c;
    }
    if (!def || def->score <= 0 || !best) {
      std::fprintf(out, "  %s: the defaults gave no ok row; %d of %d candidates ran\n",
                   backend.c_str(), ran, total);
      continue;
    }
    std::fprintf(out, "  %s: defaults %.1f %s; best %s %.1f %s (%.2fx); %d of %d candidates ran\n",
                 backend.c_str(), def->score, unit, Describe(*best).c_str(), best->score, unit,
                 best->score / def->score, ran, total);
  }
}

}  // namespace optic::bench
