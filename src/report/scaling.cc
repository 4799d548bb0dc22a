#include "report/scaling.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "report/html_text.h"
#include "report/report.h"

namespace optic::report {

std::vector<ScalingSeries> ScalingSeriesOf(const ResultsSet& results) {
  std::map<std::string, std::map<int, ScalingPoint>> by_series;
  for (const Row& r : results.rows) {
    if (!r.ok() || !r.devices.is_array() || r.devices.empty() || !r.throughput_per_s) continue;
    std::string label = r.model + " " + r.backend + " " + r.precision;
    if (r.kind == "load") label += " " + (r.protocol.empty() ? std::string("http") : r.protocol);
    else label += " " + r.scenario;
    const int gpus = static_cast<int>(r.devices.size());
    ScalingPoint& p = by_series[label][gpus];
    if (*r.throughput_per_s > p.throughput) {
      p.gpus = gpus;
      p.throughput = *r.throughput_per_s;
      p.concurrency = r.concurrency.value_or(0);
    }
  }
  std::vector<ScalingSeries> out;
  for (auto& [label, points] : by_series) {
    ScalingSeries s{label, {}};
    for (auto& [g, p] : points) s.points.push_back(p);
    const ScalingPoint base = s.points.front();
    for (ScalingPoint& p : s.points) p.ideal = base.throughput * p.gpus / base.gpus;
    out.push_back(std::move(s));
  }
  return out;
}

void WriteScalingMarkdown(const std::vector<ScalingSeries>& series, std::ostream& out) {
  if (series.empty()) return;
  out << "\n## GPU scaling\n\nThroughput against the number of GPUs serving one model (the best "
         "concurrency at each count), beside the ideal: the smallest count's throughput scaled "
         "linearly. Efficiency = throughput / ideal.\n";
  for (const ScalingSeries& s : series) {
    out << "\n**" << s.label << "**\n\n| GPUs | throughput/s | ideal/s | efficiency | concurrency |\n"
        << "|---:|---:|---:|---:|---:|\n";
    for (const ScalingPoint& p : s.points) {
      out << "| " << p.gpus << " | " << FormatNumber(p.throughput) << " | " << FormatNumber(p.ideal) << " | "
          << FormatNumber(p.ideal > 0 ? p.throughput / p.ideal : 0, "%.2f") << " | "
          << (p.concurrency > 0 ? std::to_string(p.concurrency) : "-") << " |\n";
    }
  }
}

std::string ScalingHtml(const std::vector<ScalingSeries>& series) {
  if (series.empty()) return "";
  std::ostringstream h;
  h << "<section id=\"gpu-scaling\"><h2>GPU scaling</h2>\n<p>Throughput against the number of "
       "GPUs serving one model (best concurrency at each count); dashed: the ideal, the smallest "
       "count's throughput scaled linearly.</p>\n";
  constexpr double W = 420, H = 260, L = 60, R = 15, T = 25, B = 40;
  for (const ScalingSeries& s : series) {
    int max_gpus = 1;
    double max_y = 0;
    for (const ScalingPoint& p : s.points) {
      max_gpus = std::max(max_gpus, p.gpus);
      max_y = std::max({max_y, p.throughput, p.ideal});
    }
    max_y = max_y > 0 ? max_y * 1.1 : 1;
    const int min_gpus = s.points.front().gpus;
    const double span = std::max(1, max_gpus - min_gpus + (max_gpus == min_gpus ? 1 : 0));
    auto x = [&](int g) { return L + (g - min_gpus) * (W - L - R) / span; };
    auto y = [&](double v) { return H - B - v * (H - T - B) / max_y; };
    h << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
      << "\" role=\"img\" aria-label=\"" << HtmlEscape(s.label) << "\">\n<text x=\"" << L << "\" y=\"16\" "
      << "font-size=\"13\">" << HtmlEscape(s.label) << "</text>\n<line x1=\"" << L << "\" y1=\"" << H - B
      << "\" x2=\"" << W - R << "\" y2=\"" << H - B << "\" stroke=\"#444\"/>\n<line x1=\"" << L
      << "\" y1=\"" << T << "\" x2=\"" << L << "\" y2=\"" << H - B << "\" stroke=\"#444\"/>\n";
    for (const ScalingPoint& p : s.points) {
      h << "<text x=\"" << x(p.gpus) << "\" y=\"" << H - B + 16 << "\" font-size=\"11\" "
        << "text-anchor=\"middle\">" << p.gpus << "</text>\n";
    }
    h << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 6 << "\" font-size=\"11\" "
      << "text-anchor=\"middle\">GPUs</text>\n<text x=\"" << L - 6 << "\" y=\"" << y(max_y / 1.1)
      << "\" font-size=\"11\" text-anchor=\"end\">" << FormatNumber(max_y / 1.1, "%.3g") << "</text>\n"
      << "<text x=\"" << L - 6 << "\" y=\"" << H - B << "\" font-size=\"11\" text-anchor=\"end\">0"
      << "</text>\n";
    std::string measured, ideal;
    for (const ScalingPoint& p : s.points) {
      measured += FormatNumber(x(p.gpus)) + "," + FormatNumber(y(p.throughput)) + " ";
      ideal += FormatNumber(x(p.gpus)) + "," + FormatNumber(y(p.ideal)) + " ";
    }
    h << "<polyline class=\"ideal\" points=\"" << ideal << "\" fill=\"none\" stroke=\"#999\" "
      << "stroke-dasharray=\"5,4\"/>\n<polyline class=\"measured\" points=\"" << measured
      << "\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n";
    for (const ScalingPoint& p : s.points) {
      h << "<circle cx=\"" << FormatNumber(x(p.gpus)) << "\" cy=\"" << FormatNumber(y(p.throughput))
        << "\" r=\"3.5\" fill=\"#1f77b4\"><title>" << p.gpus << " GPU(s): " << FormatNumber(p.throughput)
        << "/s, ideal " << FormatNumber(p.ideal) << "/s</title></circle>\n";
    }
    h << "</svg>\n";
  }
  h << "</section>\n";
  return h.str();
}

}  // namespace optic::report
