#include "report/pipeline_figure.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "report/html_text.h"

namespace optic::report {
namespace {

double Stage(const Row& r, const std::string& name) {
  for (const auto& [n, v] : r.stages_ms) {
    if (n == name) return v;
  }
  return 0;
}

const char* kSeriesColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
                                "#e377c2", "#17becf"};
const char* kStageColours[] = {"#4c78a8", "#e45756", "#54a24b", "#b279a2"};
const char* kStages[] = {"stage 1", "broker", "stage 2", "gather"};

}  // namespace

std::vector<PipelineSeries> PipelineSeriesOf(const ResultsSet& results) {
  struct Key {
    std::string context, transport;
    int workers;
    bool operator<(const Key& o) const {
      return std::tie(context, transport, workers) < std::tie(o.context, o.transport, o.workers);
    }
  };
  std::map<Key, std::map<int, PipelinePoint>> by_series;
  std::set<std::string> contexts;
  for (const Row& r : results.rows) {
    if (r.kind != "pipeline" || !r.ok() || !r.pipeline.is_object()) continue;
    const auto& p = r.pipeline;
    const int objects = p.value("objects_per_frame", 0);
    if (objects <= 0) continue;
    const std::string context = r.model + " " + r.backend + " " + r.device;
    contexts.insert(context);
    PipelinePoint pt;
    pt.objects = objects;
    pt.frames_per_s = r.throughput_per_s.value_or(0);
    pt.objects_per_s = p.value("objects_per_s", 0.0);
    pt.p50_ms = r.latency_ms.p50.value_or(0);
    pt.stage1_ms = Stage(r, "stage1");
    pt.broker_ms = Stage(r, "broker");
    pt.stage2_ms = Stage(r, "stage2");
    pt.gather_ms = Stage(r, "gather");
    by_series[{context, p.value("transport", std::string("?")), p.value("workers", 1)}][objects] = pt;
  }
  std::vector<PipelineSeries> out;
  for (auto& [key, points] : by_series) {
    PipelineSeries s;
    s.label = key.transport;
    if (key.transport != "fused") {
      s.label += ", " + std::to_string(key.workers) + (key.workers == 1 ? " worker" : " workers");
    }
    if (contexts.size() > 1) s.label = key.context + ": " + s.label;
    for (auto& [objects, pt] : points) s.points.push_back(pt);
    out.push_back(std::move(s));
  }
  return out;
}

void WritePipelineMarkdown(const std::vector<PipelineSeries>& series, std::ostream& out) {
  if (series.empty()) return;
  out << "\n## Pipelines\n\nDetector, then the embedder on every object's crop (optic pipeline): "
         "loaded throughput, and the zero-load frame latency (p50) with its mean split into "
         "stage 1, broker (enqueue to dequeue, both ways), stage 2 and gathering; broker share = "
         "broker / the four stages.\n\n"
         "| series | objects/frame | frames/s | objects/s | p50 ms | stage 1 ms | broker ms | "
         "stage 2 ms | gather ms | broker share |\n"
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const PipelineSeries& s : series) {
    for (const PipelinePoint& p : s.points) {
      const double total = p.stage1_ms + p.broker_ms + p.stage2_ms + p.gather_ms;
      out << "| " << s.label << " | " << p.objects << " | " << FormatNumber(p.frames_per_s) << " | "
          << FormatNumber(p.objects_per_s) << " | " << FormatNumber(p.p50_ms, "%.3g") << " | "
          << FormatNumber(p.stage1_ms, "%.3g") << " | " << FormatNumber(p.broker_ms, "%.3g") << " | "
          << FormatNumber(p.stage2_ms, "%.3g") << " | " << FormatNumber(p.gather_ms, "%.3g") << " | "
          << (total > 0 ? FormatNumber(100 * p.broker_ms / total, "%.0f") + "%" : std::string("-"))
          << " |\n";
    }
  }
}

std::string PipelineHtml(const std::vector<PipelineSeries>& series) {
  if (series.empty()) return "";
  std::vector<int> objects;  // every objects count of any series, ascending
  double max_fps = 0, max_ms = 0;
  for (const PipelineSeries& s : series) {
    for (const PipelinePoint& p : s.points) {
      if (std::find(objects.begin(), objects.end(), p.objects) == objects.end()) objects.push_back(p.objects);
      max_fps = std::max(max_fps, p.frames_per_s);
      max_ms = std::max(max_ms, p.stage1_ms + p.broker_ms + p.stage2_ms + p.gather_ms);
    }
  }
  std::sort(objects.begin(), objects.end());
  max_fps = max_fps > 0 ? max_fps * 1.1 : 1;
  max_ms = max_ms > 0 ? max_ms * 1.1 : 1;
  constexpr double H = 280, L = 60, R = 170, T = 25, B = 40;
  const double W = std::max(460.0, L + R + objects.size() * (series.size() * 14.0 + 16));
  const double plot_w = W - L - R;
  auto slot = [&](int o) {
    return static_cast<double>(std::find(objects.begin(), objects.end(), o) - objects.begin());
  };
  auto cx = [&](int o) { return L + (slot(o) + 0.5) * plot_w / objects.size(); };
  std::ostringstream h;
  auto axes = [&](const std::string& title, const std::string& y_label, double max_y) {
    h << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
      << "\" role=\"img\" aria-label=\"" << HtmlEscape(title) << "\">\n<text x=\"" << L
      << "\" y=\"16\" font-size=\"13\">" << HtmlEscape(title) << "</text>\n<line x1=\"" << L
      << "\" y1=\"" << H - B << "\" x2=\"" << L + plot_w << "\" y2=\"" << H - B
      << "\" stroke=\"#444\"/>\n<line x1=\"" << L << "\" y1=\"" << T << "\" x2=\"" << L
      << "\" y2=\"" << H - B << "\" stroke=\"#444\"/>\n";
    for (int o : objects) {
      h << "<text x=\"" << FormatNumber(cx(o)) << "\" y=\"" << H - B + 16 << "\" font-size=\"11\" "
        << "text-anchor=\"middle\">" << o << "</text>\n";
    }
    h << "<text x=\"" << L + plot_w / 2 << "\" y=\"" << H - 6 << "\" font-size=\"11\" "
      << "text-anchor=\"middle\">objects per frame</text>\n<text x=\"" << L - 6 << "\" y=\"" << T + 4
      << "\" font-size=\"11\" text-anchor=\"end\">" << FormatNumber(max_y / 1.1, "%.3g") << "</text>\n<text x=\""
      << L - 6 << "\" y=\"" << H - B << "\" font-size=\"11\" text-anchor=\"end\">0</text>\n<text x=\""
      << 12 << "\" y=\"" << (T + H - B) / 2 << "\" font-size=\"11\" transform=\"rotate(-90 12 "
      << (T + H - B) / 2 << ")\" text-anchor=\"middle\">" << y_label << "</text>\n";
  };
  auto y_of = [&](double v, double max_y) { return H - B - v * (H - T - B) / max_y; };
  auto legend = [&](const std::vector<std::pair<std::string, const char*>>& items) {
    double y = T + 10;
    for (const auto& [name, colour] : items) {
      h << "<rect x=\"" << W - R + 12 << "\" y=\"" << y - 9 << "\" width=\"10\" height=\"10\" fill=\""
        << colour << "\"/><text x=\"" << W - R + 27 << "\" y=\"" << y << "\" font-size=\"11\">"
        << HtmlEscape(name) << "</text>\n";
      y += 16;
    }
  };

  h << "<section id=\"pipelines\"><h2>Pipelines</h2>\n<p>Detector, then the embedder on every "
       "object's crop (optic pipeline): loaded throughput against objects per frame, one line per "
       "transport and worker count; below, the zero-load latency of a frame split into its "
       "stages (mean ms), one bar per series at each objects count, in the legend's order.</p>\n";
  axes("throughput (frames/s) vs objects per frame", "frames/s", max_fps);
  std::vector<std::pair<std::string, const char*>> series_legend;
  for (size_t i = 0; i < series.size(); ++i) {
    const char* colour = kSeriesColours[i % 8];
    series_legend.emplace_back(series[i].label, colour);
    std::string line;
    for (const PipelinePoint& p : series[i].points) {
      line += FormatNumber(cx(p.objects)) + "," + FormatNumber(y_of(p.frames_per_s, max_fps)) + " ";
    }
    h << "<polyline class=\"series\" points=\"" << line << "\" fill=\"none\" stroke=\"" << colour
      << "\" stroke-width=\"2\"/>\n";
    for (const PipelinePoint& p : series[i].points) {
      h << "<circle cx=\"" << FormatNumber(cx(p.objects)) << "\" cy=\"" << FormatNumber(y_of(p.frames_per_s, max_fps))
        << "\" r=\"3\" fill=\"" << colour << "\"><title>" << HtmlEscape(series[i].label) << ", "
        << p.objects << " objects: " << FormatNumber(p.frames_per_s) << " frames/s, " << FormatNumber(p.objects_per_s)
        << " objects/s</title></circle>\n";
    }
  }
  legend(series_legend);
  h << "</svg>\n";

  axes("zero-load latency by stage (ms) vs objects per frame", "ms", max_ms);
  const double group_w = plot_w / objects.size() * 0.8;
  const double bar_w = group_w / series.size();
  for (size_t i = 0; i < series.size(); ++i) {
    for (const PipelinePoint& p : series[i].points) {
      const double x0 = cx(p.objects) - group_w / 2 + i * bar_w;
      const double parts[] = {p.stage1_ms, p.broker_ms, p.stage2_ms, p.gather_ms};
      double base = 0;
      for (int k = 0; k < 4; ++k) {
        const double top = y_of(base + parts[k], max_ms), bottom = y_of(base, max_ms);
        h << "<rect class=\"stage\" x=\"" << FormatNumber(x0) << "\" y=\"" << FormatNumber(top) << "\" width=\""
          << FormatNumber(std::max(1.0, bar_w - 1)) << "\" height=\"" << FormatNumber(bottom - top) << "\" fill=\""
          << kStageColours[k] << "\"><title>" << HtmlEscape(series[i].label) << ", " << p.objects
          << " objects, " << kStages[k] << ": " << FormatNumber(parts[k], "%.3g") << " ms</title></rect>\n";
        base += parts[k];
      }
    }
  }
  std::vector<std::pair<std::string, const char*>> stage_legend;
  for (int k = 0; k < 4; ++k) stage_legend.emplace_back(kStages[k], kStageColours[k]);
  legend(stage_legend);
  h << "</svg>\n<p>Bars left to right: ";
  for (size_t i = 0; i < series.size(); ++i) h << (i ? ", " : "") << HtmlEscape(series[i].label);
  h << ".</p>\n</section>\n";
  return h.str();
}

}  // namespace optic::report
