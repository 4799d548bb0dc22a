#include "report/matrix.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "report/html_text.h"
#include "report/report.h"
#include "report/tuning.h"

namespace optic::report {
namespace {

bool TakesPart(const Row& r) {
  return r.kind == "bench" &&
         (r.scenario.empty() || r.scenario == "offline" || r.scenario == "single_stream");
}

int PrecisionRank(const std::string& p) {
  static const char* order[] = {"fp32", "tf32", "bf16", "fp16", "fp8", "int8"};
  for (int i = 0; i < 6; ++i) {
    if (p == order[i]) return i;
  }
  return 6;
}

void Offer(std::optional<MatrixBest>* slot, const Row& r, double value, bool higher_is_better) {
  if (*slot && (higher_is_better ? value <= (*slot)->value : value >= (*slot)->value)) return;
  *slot = MatrixBest{value, r.batch_size, SettingsLabel(r), r.unstable(), r.parity_pass.has_value()};
}

// Column index of the best cell and its margin over the best other one (0 when alone).
template <typename Get>
void Pick(const MatrixLine& line, Get get, bool higher_is_better, int* best, double* margin) {
  *best = -1;
  int second = -1;
  for (int i = 0; i < static_cast<int>(line.cells.size()); ++i) {
    const auto& v = get(line.cells[i]);
    if (!v) continue;
    auto better = [&](int j) {
      const double a = v->value, b = get(line.cells[j])->value;
      return higher_is_better ? a > b : a < b;
    };
    if (*best < 0 || better(*best)) {
      second = *best;
      *best = i;
    } else if (second < 0 || better(second)) {
      second = i;
    }
  }
  if (*best < 0) return;
  if (second < 0) {
    *margin = 0;
    return;
  }
  const double a = get(line.cells[*best])->value, b = get(line.cells[second])->value;
  *margin = higher_is_better ? a / b : b / a;
}

}  // namespace

BackendPrecisionMatrix BuildBackendPrecisionMatrix(const std::vector<Row>& rows) {
  BackendPrecisionMatrix m;
  std::vector<std::string> backends;
  std::map<std::string, std::vector<std::string>> precisions;  // per backend
  for (const Row& r : rows) {
    if (!TakesPart(r)) continue;
    if (std::find(backends.begin(), backends.end(), r.backend) == backends.end()) {
      backends.push_back(r.backend);
    }
    auto& ps = precisions[r.backend];
    if (std::find(ps.begin(), ps.end(), r.precision) == ps.end()) ps.push_back(r.precision);
  }
  std::map<std::pair<std::string, std::string>, int> column;
  for (const auto& b : backends) {
    auto ps = precisions[b];
    std::stable_sort(ps.begin(), ps.end(), [](const std::string& x, const std::string& y) {
      return PrecisionRank(x) < PrecisionRank(y);
    });
    for (const auto& p : ps) {
      column[{b, p}] = static_cast<int>(m.columns.size());
      m.columns.push_back({b, p});
    }
  }
  std::map<std::pair<std::string, std::string>, MatrixLine> lines;
  // The first reason per (line, column, status), for the cells that end up empty.
  std::map<std::tuple<std::string, std::string, int, std::string>, std::string> reasons;
  for (const Row& r : rows) {
    if (!TakesPart(r)) continue;
    MatrixLine& line = lines[{r.Hardware(), r.model}];
    line.cells.resize(m.columns.size());
    const int col = column[{r.backend, r.precision}];
    MatrixCell& c = line.cells[col];
    if (!r.ok() || r.parity_failed()) {
      const std::string status = r.ok() ? "out of parity"
                                 : r.status == "unsupported" || r.status == "timeout" ? r.status
                                                                                      : "failed";
      ++*(status == "out of parity" ? &c.parity_excluded
          : status == "unsupported" ? &c.unsupported
          : status == "timeout"     ? &c.timeout
                                    : &c.failed);
      reasons.emplace(std::make_tuple(r.Hardware(), r.model, col, status),
                      r.ok() ? r.parity_failure : r.error);
      continue;
    }
    ++c.ok;
    if (r.throughput_per_s && *r.throughput_per_s > 0) Offer(&c.throughput, r, *r.throughput_per_s, true);
    if (r.latency_ms.p50 && *r.latency_ms.p50 > 0) Offer(&c.latency, r, *r.latency_ms.p50, false);
  }
  for (auto& [key, line] : lines) {
    line.hardware = key.first;
    line.model = key.second;
    for (int col = 0; col < static_cast<int>(line.cells.size()); ++col) {
      MatrixCell& c = line.cells[col];
      if (c.throughput || c.latency) continue;
      // The most telling status: a precision the backend cannot do, then a run that did not
      // finish, then a crash, then a run that finished wrong.
      c.empty_status = c.unsupported       ? "unsupported"
                       : c.timeout         ? "timeout"
                       : c.failed          ? "failed"
                       : c.parity_excluded ? "out of parity"
                                           : "";
      auto it = reasons.find(std::make_tuple(key.first, key.second, col, c.empty_status));
      if (it != reasons.end()) c.reason = it->second;
    }
    Pick(line, [](const MatrixCell& c) -> const std::optional<MatrixBest>& { return c.throughput; },
         true, &line.best_throughput, &line.throughput_margin);
    Pick(line, [](const MatrixCell& c) -> const std::optional<MatrixBest>& { return c.latency; },
         false, &line.best_latency, &line.latency_margin);
    m.lines.push_back(std::move(line));
  }
  return m;
}

namespace {

std::string Part(const std::optional<MatrixBest>& b, const char* unit, bool winner) {
  std::string v = Fmt(b->value) + unit;
  if (winner) v = "**" + v + "**";
  v += " b" + std::to_string(b->batch_size);
  if (b->unstable) v += " ⚠";
  return v;
}

std::string CellText(const MatrixLine& line, int col) {
  const MatrixCell& c = line.cells[col];
  if (!c.throughput && !c.latency) return c.empty_status.empty() ? "-" : c.empty_status;
  std::string s;
  if (c.throughput) s = Part(c.throughput, "/s", col == line.best_throughput);
  if (c.latency) s += (s.empty() ? "" : " · ") + Part(c.latency, " ms", col == line.best_latency);
  std::string also;
  auto add = [&also](int n, const char* what) {
    if (n) also += (also.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  };
  add(c.timeout, "timeout");
  add(c.failed, "failed");
  add(c.parity_excluded, "out of parity");
  if (!also.empty()) s += " (+" + also + ")";
  return s;
}

std::string WinnerText(const BackendPrecisionMatrix& m, int col,
                       const std::optional<MatrixBest>& best, double margin) {
  if (col < 0) return "-";
  std::string s = "**" + m.columns[col].backend + " " + m.columns[col].precision + "** b" +
                  std::to_string(best->batch_size);
  if (best->settings != "defaults") s += " " + MarkdownCell(best->settings);
  if (margin > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", margin);
    s += std::string(", ") + buf + "x the next";
  } else {
    s += ", alone";
  }
  if (!best->parity_checked) s += " ⚠ parity not checked";
  return s;
}

}  // namespace

void WriteMatrixMarkdown(const BackendPrecisionMatrix& m, std::ostream& out) {
  if (m.columns.size() < 2 || m.lines.empty()) return;
  out << "\n## Winner matrix: backend x precision\n\n"
      << "Per model, each backend and precision's best row within its parity limits (any batch "
         "and settings): throughput (samples/s) and p50 latency (ms), each with its batch. "
         "**Bold**: the line's winner. A cell without a measurement says why (the reasons "
         "follow the table); \"+2 timeout\" counts rows of a measured cell that did not run.\n\n"
      << "| hardware | model |";
  for (const auto& c : m.columns) out << " " << c.backend << " " << c.precision << " |";
  out << " max throughput | min latency |\n|---|---|";
  for (size_t i = 0; i < m.columns.size(); ++i) out << "---|";
  out << "---|---|\n";
  for (const auto& line : m.lines) {
    out << "| " << MarkdownCell(line.hardware) << " | " << line.model << " |";
    for (size_t i = 0; i < m.columns.size(); ++i) out << " " << CellText(line, static_cast<int>(i)) << " |";
    const auto& bt = line.best_throughput >= 0 ? line.cells[line.best_throughput].throughput
                                               : std::optional<MatrixBest>();
    const auto& bl = line.best_latency >= 0 ? line.cells[line.best_latency].latency
                                            : std::optional<MatrixBest>();
    out << " " << WinnerText(m, line.best_throughput, bt, line.throughput_margin) << " | "
        << WinnerText(m, line.best_latency, bl, line.latency_margin) << " |\n";
  }
  // Why: one line per (column, status, reason) with the models it covers.
  std::map<std::tuple<int, std::string, std::string>, std::vector<std::string>> why;
  for (const auto& line : m.lines) {
    for (size_t i = 0; i < line.cells.size(); ++i) {
      const MatrixCell& c = line.cells[i];
      if (c.empty_status.empty()) continue;
      auto& models = why[{static_cast<int>(i), c.empty_status, c.reason}];
      if (std::find(models.begin(), models.end(), line.model) == models.end()) {
        models.push_back(line.model);
      }
    }
  }
  if (why.empty()) return;
  out << "\nEmpty cells:\n\n";
  for (const auto& [key, models] : why) {
    const auto& [col, status, reason] = key;
    out << "- " << m.columns[col].backend << " " << m.columns[col].precision << ", " << status;
    if (!reason.empty()) out << " (" << MarkdownCell(reason) << ")";
    out << ": ";
    for (size_t i = 0; i < models.size(); ++i) out << (i ? ", " : "") << models[i];
    out << "\n";
  }
}

}  // namespace optic::report
