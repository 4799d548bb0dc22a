// GPU scaling: rows that ran on several GPUs at once (a `devices` list; scripts/gpu/multi_gpu.sh)
// grouped into series by model, backend, precision and protocol, one point per GPU count (the
// highest throughput over the series' concurrencies there), beside the ideal line: the series'
// throughput on its smallest GPU count, scaled linearly.
// Thread safety: free functions on values.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "report/results.h"

namespace optic::report {

struct ScalingPoint {
  int gpus = 0;
  double throughput = 0;  // per second, the best concurrency at this GPU count
  int concurrency = 0;    // where it was reached (0: not a load row)
  double ideal = 0;       // base throughput * gpus / base gpus
};

struct ScalingSeries {
  std::string label;  // "resnet50_jpeg_gpu torch fp16 http"
  std::vector<ScalingPoint> points;  // by GPU count
};

std::vector<ScalingSeries> ScalingSeriesOf(const ResultsSet& results);
// "## GPU scaling": per series a table of GPU count, throughput, ideal and efficiency; nothing
// when no row has a devices list.
void WriteScalingMarkdown(const std::vector<ScalingSeries>& series, std::ostream& out);
// The same as a self-contained HTML section: one SVG chart per series, throughput vs GPU count
// with the ideal line dashed. Empty when there are no series.
std::string ScalingHtml(const std::vector<ScalingSeries>& series);

}  // namespace optic::report
