#include "bench/progress.h"

#include <map>

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
std::string Config(const json& r) {
  return r.value("backend", "?") + " " + r.value("precision", "?") + " b" +
         std::to_string(r.value("batch_size", 0)) + " t" + std::to_string(r.value("threads", 0));
}
}  // namespace

void Progress::Begin(int total) {
  total_ = total;
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

void Progress::CellDone(const json& r) {
  ++done_;
  const std::string status = r.value("status", "?");
  std::string what;
  if (status == "ok") {
    char buf[160];
    const json& l = r["latency_ms"];
    std::snprintf(buf, sizeof(buf), "%.1f img/s, p50 %.2f ms%s", r["throughput_per_s"].get<double>(),
                  l["p50"].is_number() ? l["p50"].get<double>() : 0.0,
                  r.value("stable", false) ? "" : " (unstable)");
    what = buf;
  } else {
    std::string err = r["error"].is_string() ? r["error"].get<std::string>() : "";
    if (err.size() > 140) err = err.substr(0, 140) + "...";
    what = status + ": " + err;
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

void PrintSummary(const std::vector<json>& rows, FILE* out) {
  std::map<std::string, int> counts;
  struct Best {
    const json* latency = nullptr;
    const json* throughput = nullptr;
  };
  std::map<std::string, Best> best;
  for (const json& r : rows) {
    const std::string status = r.value("status", "?");
    ++counts[status];
    if (status != "ok" || r.value("kind", "") != "bench") continue;
    Best& b = best[r.value("model", "?")];
    const std::string scenario = r.value("scenario", "");
    if (scenario == "single_stream" && r["latency_ms"]["p50"].is_number() &&
        (!b.latency || r["latency_ms"]["p50"].get<double>() < (*b.latency)["latency_ms"]["p50"].get<double>())) {
      b.latency = &r;
    }
    if (scenario == "offline" && r["throughput_per_s"].is_number() &&
        (!b.throughput || r["throughput_per_s"].get<double>() > (*b.throughput)["throughput_per_s"].get<double>())) {
      b.throughput = &r;
    }
  }
  std::fprintf(out, "\nrows:");
  for (const auto& [status, n] : counts) std::fprintf(out, " %s %d", status.c_str(), n);
  std::fprintf(out, "\n\n%-16s | %-34s %10s | %-34s %10s\n", "model", "best latency (single_stream)",
               "p50 ms", "best throughput (offline)", "img/s");
  std::fprintf(out, "%s\n", std::string(112, '-').c_str());
  for (const auto& [model, b] : best) {
    std::string lat_cfg = "-", thr_cfg = "-";
    char lat[32] = "-", thr[32] = "-";
    if (b.latency) {
      lat_cfg = Config(*b.latency) + ((*b.latency)["stable"].get<bool>() ? "" : " (unstable)");
      std::snprintf(lat, sizeof(lat), "%.2f", (*b.latency)["latency_ms"]["p50"].get<double>());
    }
    if (b.throughput) {
      thr_cfg = Config(*b.throughput) + ((*b.throughput)["stable"].get<bool>() ? "" : " (unstable)");
      std::snprintf(thr, sizeof(thr), "%.1f", (*b.throughput)["throughput_per_s"].get<double>());
    }
    std::fprintf(out, "%-16s | %-34s %10s | %-34s %10s\n", model.c_str(), lat_cfg.c_str(), lat,
                 thr_cfg.c_str(), thr);
  }
  // End-to-end rows: the stage split and the cost against the model alone (docs/bench.md).
  bool e2e_header = false;
  for (const json& r : rows) {
    if (r.value("status", "") != "ok" || r.value("kind", "") != "e2e" || !r.contains("e2e")) continue;
    if (!e2e_header) {
      std::fprintf(out, "\n%-16s %-22s %-6s %-4s %10s %12s %12s %14s\n", "e2e model", "backend/precision",
                   "images", "prep", "img/s", "decode+prep", "infer share", "vs model only");
      e2e_header = true;
    }
    const json& e = r["e2e"];
    const double share = e.value("decode_preprocess_share", 0.0);
    const double sum = e.value("stages_sum_ms", 0.0);
    const double infer_share = sum > 0 && r["stages_ms"].is_object() ? r["stages_ms"].value("infer", 0.0) / sum : 0.0;
    const std::string bp = r.value("backend", "?") + "/" + r.value("precision", "?") + " b" +
                           std::to_string(r.value("batch_size", 0));
    std::fprintf(out, "%-16s %-22s %-6s %-4s %10.1f %11.0f%% %11.0f%% %13.2fx\n",
                 r.value("model", "?").c_str(), bp.c_str(), r.value("image_class", "?").c_str(),
                 r.value("preprocess", "?").c_str(), r["throughput_per_s"].get<double>(), 100 * share,
                 100 * infer_share, e.value("throughput_fraction_of_inference_only", 0.0));
  }
  std::fflush(out);
}

}  // namespace optic::bench
