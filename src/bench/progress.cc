#include "bench/progress.h"

#include <map>

#include "results/repeats.h"

namespace optic::bench {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {
std::string Duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof(buf), "%.0fs", s);
  else std::snprintf(buf, sizeof(buf), "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  return buf;
}
}  // namespace

void Progress::Begin(int total) {
  total_ = total;
  done_ = 0;
  sweep_start_ = Clock::now();
  std::fprintf(out_, "optic bench: %d cells\n", total);
}

void Progress::CellStart(int index, const std::string& label) {
  index_ = index;
  label_ = label;
  phase_ = "start";
  cell_start_ = Clock::now();
  Draw();
}

void Progress::Phase(const std::string& phase) {
  if (!phase.empty()) phase_ = phase;
  Draw();
}

void Progress::Draw() {
  if (!interactive_) return;
  const double elapsed = std::chrono::duration<double>(Clock::now() - sweep_start_).count();
  const double cell = std::chrono::duration<double>(Clock::now() - cell_start_).count();
  std::string eta = "?";
  if (done_ > 0) eta = Duration(elapsed / done_ * (total_ - done_) - cell);
  std::fprintf(out_, "\r\033[K[%d/%d] %s: %s %s | elapsed %s, ETA %s", index_ + 1, total_,
               label_.c_str(), phase_.c_str(), Duration(cell).c_str(), Duration(elapsed).c_str(),
               eta.c_str());
  std::fflush(out_);
}

void Progress::CellDone(const results::Row& r) {
  ++done_;
  std::string what;
  if (r.ok()) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%.1f img/s, p50 %.2f ms%s", r.throughput_per_s.value_or(0.0),
                  r.latency_ms.p50.value_or(0.0), r.stable.value_or(false) ? "" : " (unstable)");
    what = buf;
  } else {
    std::string err = r.error;
    if (err.size() > 140) err = err.substr(0, 140) + "...";
    what = r.status + ": " + err;
  }
  if (interactive_) std::fprintf(out_, "\r\033[K");
  std::fprintf(out_, "[%d/%d] %s: %s\n", index_ + 1, total_, label_.c_str(), what.c_str());
  std::fflush(out_);
}

void Progress::Note(const std::string& text) {
  if (interactive_) std::fprintf(out_, "\r\033[K");
  std::fprintf(out_, "%s\n", text.c_str());
  Draw();
}

void Progress::End() {
  const double elapsed = std::chrono::duration<double>(Clock::now() - sweep_start_).count();
  if (interactive_) std::fprintf(out_, "\r\033[K");
  std::fprintf(out_, "optic bench: %d cells in %s\n", done_, Duration(elapsed).c_str());
}

void PrintSummary(const std::vector<results::Row>& rows, FILE* out) {
  std::map<std::string, int> counts;
  for (const results::Row& r : rows) ++counts[r.status];
  // The same medians optic report shows (results/repeats.h): a cell run with --repeat competes
  // with the median of its repeats, a cell run once with its row.
  const std::vector<results::Row> cells = results::CollapseRepeats(rows);
  struct Best {
    const results::Row* latency = nullptr;
    const results::Row* throughput = nullptr;
  };
  std::map<std::string, Best> best;
  bool repeated = false;
  std::vector<const results::Row*> out_of_tolerance;
  for (const results::Row& r : cells) {
    if (!r.ok() || r.kind != "bench") continue;
    if (r.parity_failed()) {  // fast but wrong: never the recommendation
      out_of_tolerance.push_back(&r);
      continue;
    }
    Best& b = best[r.model];
    repeated = repeated || r.repeats_aggregated > 1;
    if (r.scenario == "single_stream" && r.latency_ms.p50 &&
        (!b.latency || *r.latency_ms.p50 < *b.latency->latency_ms.p50)) {
      b.latency = &r;
    }
    if (r.scenario == "offline" && r.throughput_per_s &&
        (!b.throughput || *r.throughput_per_s > *b.throughput->throughput_per_s)) {
      b.throughput = &r;
    }
  }
  // "(unstable)", and with repeats " x3 spread 1.04" (or "!" past the 10% rule).
  auto notes = [](const results::Row& r) {
    std::string s = r.unstable() ? " (unstable)" : "";
    if (r.repeats_aggregated > 1) {
      char buf[48];
      std::snprintf(buf, sizeof buf, " x%d spread %.2f%s", r.repeats_aggregated,
                    r.repeat_spread.value_or(0.0),
                    r.repeat_spread && *r.repeat_spread > results::kRepeatSpreadRule ? "!" : "");
      s += buf;
    }
    if (!r.parity_pass) s += " (parity not checked)";
    return s;
  };
  auto config = [](const results::Row& r) {
    return r.backend + " " + r.precision + " b" + std::to_string(r.batch_size) + " t" + std::to_string(r.threads);
  };
  const int w = repeated ? 52 : 34;  // room for the repeats note
  std::fprintf(out, "\nrows:");
  for (const auto& [status, n] : counts) std::fprintf(out, " %s %d", status.c_str(), n);
  std::fprintf(out, "\n\n%-16s | %-*s %10s | %-*s %10s\n", "model", w, "best latency (single_stream)",
               "p50 ms", w, repeated ? "best throughput (offline), median of repeats" : "best throughput (offline)",
               "img/s");
  std::fprintf(out, "%s\n", std::string(2 * w + 44, '-').c_str());
  for (const auto& [model, b] : best) {
    std::string lat_cfg = "-", thr_cfg = "-";
    char lat[32] = "-", thr[32] = "-";
    if (b.latency) {
      lat_cfg = config(*b.latency) + notes(*b.latency);
      std::snprintf(lat, sizeof(lat), "%.2f", *b.latency->latency_ms.p50);
    }
    if (b.throughput) {
      thr_cfg = config(*b.throughput) + notes(*b.throughput);
      std::snprintf(thr, sizeof(thr), "%.1f", *b.throughput->throughput_per_s);
    }
    std::fprintf(out, "%-16s | %-*s %10s | %-*s %10s\n", model.c_str(), w, lat_cfg.c_str(), lat, w,
                 thr_cfg.c_str(), thr);
  }
  if (!out_of_tolerance.empty()) {
    std::fprintf(out, "\nparity: %zu row(s) out of their precision's limits, not recommended above:\n",
                 out_of_tolerance.size());
    for (const results::Row* r : out_of_tolerance) {
      std::fprintf(out, "  %s %s: %s\n", r->Label().c_str(), r->scenario.c_str(), r->parity_failure.c_str());
    }
  }
  if (repeated) {
    const std::vector<std::string> over = results::SpreadViolations(cells);
    std::fprintf(out, "\nrepeats: medians shown; spread = max/min throughput across repeats; %zu cell(s) over %.2f%s\n",
                 over.size(), results::kRepeatSpreadRule, over.empty() ? "" : ":");
    for (const auto& c : over) std::fprintf(out, "  %s\n", c.c_str());
  }
  // End-to-end rows: the stage split and the cost against the model alone (docs/bench.md).
  bool e2e_header = false;
  for (const results::Row& r : rows) {
    if (!r.ok() || r.kind != "e2e" || !r.e2e.is_object()) continue;
    if (!e2e_header) {
      std::fprintf(out, "\n%-16s %-22s %-6s %-4s %10s %12s %12s %14s\n", "e2e model", "backend/precision",
                   "images", "prep", "img/s", "decode+prep", "infer share", "vs model only");
      e2e_header = true;
    }
    const json& e = r.e2e;
    const double share = e.value("decode_preprocess_share", 0.0);
    const double sum = e.value("stages_sum_ms", 0.0);
    double infer = 0;
    for (const auto& [name, ms] : r.stages_ms) infer = name == "infer" ? ms : infer;
    const double infer_share = sum > 0 ? infer / sum : 0.0;
    const std::string bp = r.backend + "/" + r.precision + " b" + std::to_string(r.batch_size);
    std::fprintf(out, "%-16s %-22s %-6s %-4s %10.1f %11.0f%% %11.0f%% %13.2fx\n",
                 r.model.c_str(), bp.c_str(), r.image_class.c_str(), r.preprocess.c_str(),
                 r.throughput_per_s.value_or(0.0), 100 * share, 100 * infer_share,
                 e.value("throughput_fraction_of_inference_only", 0.0));
  }
  std::fflush(out);
}

}  // namespace optic::bench
