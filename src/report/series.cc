// Series assignment for the report's figures (see AssignSeries in analysis.h). Sweeps of one
// backend with different options (cuda_graph, channels_last) and repeated runs of the same
// cells are separate lines; without this a line zigzags between them at each batch size.
#include <map>
#include <set>
#include <tuple>

#include "report/analysis.h"

namespace optic::report {

namespace {

// What a row was measured in: its run, or its file when the producer wrote no run_id.
std::string RunOf(const Row& r) { return r.run_id.empty() ? "file " + r.file : r.run_id; }

// "2026-11-22T01:04:59Z-3634ac20" -> "run 2026-11-22 01:04"; anything else unchanged.
std::string ShortRun(const std::string& run) {
  if (run.size() >= 16 && run[4] == '-' && run[10] == 'T' && run[13] == ':') {
    return "run " + run.substr(0, 10) + " " + run.substr(11, 5);
  }
  return run.rfind("file ", 0) == 0 ? run : "run " + run;
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// What the kind adds to a label: nothing for bench rows, "e2e small cpu" for e2e rows (their
// image class and preprocessing live only in the cell_id), the kind otherwise.
std::string KindPart(const Row& r) {
  if (r.kind == "bench") return "";
  const size_t at = r.cell_id.find("|e2e:");
  if (r.kind == "e2e" && at != std::string::npos) {
    std::string s = "e2e " + r.cell_id.substr(at + 5);
    for (char& c : s) c = c == ':' ? ' ' : c;
    return s;
  }
  return r.kind;
}

}  // namespace

std::vector<SeriesInfo> AssignSeries(const std::vector<Row>& rows) {
  // Rows that may share a line, whatever their precision: hardware, model, kind, config, scenario.
  using Group = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  auto group_of = [](const Row& r) {
    return Group{r.Hardware(), r.model, KindPart(r), r.Config(), r.scenario};
  };
  struct Seen {
    std::set<std::string> devices, runs, shorts;
    std::set<int> threads;
  };
  std::map<Group, Seen> seen;
  for (const Row& r : rows) {
    Seen& s = seen[group_of(r)];
    s.devices.insert(r.device);
    s.threads.insert(r.threads);
    s.runs.insert(RunOf(r));
    s.shorts.insert(ShortRun(RunOf(r)));
  }
  std::vector<SeriesInfo> out;
  out.reserve(rows.size());
  for (const Row& r : rows) {
    const Seen& s = seen[group_of(r)];
    std::string extra;
    auto add = [&extra](const std::string& part) { extra += " · " + part; };
    if (s.devices.size() > 1) add(r.device);
    if (!r.scenario.empty() && r.scenario != "offline") add(r.scenario);
    if (!KindPart(r).empty()) add(KindPart(r));
    if (s.threads.size() > 1) add("t" + std::to_string(r.threads));
    if (s.runs.size() > 1) add(s.shorts.size() == s.runs.size() ? ShortRun(RunOf(r)) : RunOf(r));
    const std::string options = r.OptionsLabel().empty() ? "" : " " + r.OptionsLabel();
    out.push_back({r.backend + " " + r.precision + options + extra, r.backend + options + extra});
  }
  // Last resort: a line whose rows still share a point (two files of one run) is split by file
  // name, so the figure shows both points rather than a vertical jump.
  using Point = std::tuple<std::string, std::string, std::string, int, int>;
  using Line = std::tuple<std::string, std::string, std::string>;
  std::map<Point, std::set<std::string>> files_at;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    files_at[{r.Hardware(), r.model, out[i].label, r.batch_size, r.concurrency.value_or(0)}]
        .insert(r.file);
  }
  std::set<Line> split;
  for (const auto& [p, files] : files_at) {
    if (files.size() > 1) split.insert({std::get<0>(p), std::get<1>(p), std::get<2>(p)});
  }
  std::vector<SeriesInfo> fixed = out;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (split.count({r.Hardware(), r.model, out[i].label})) {
      fixed[i].label += " · " + BaseName(r.file);
      fixed[i].color_key += " · " + BaseName(r.file);
    }
  }
  return fixed;
}

}  // namespace optic::report
