// Multi-model pipelines (optic pipeline, docs/pipeline.md): pipeline rows grouped into one series
// per transport and worker count, one point per objects-per-frame, with the loaded throughput
// (frames/s and objects/s) and the zero-load latency split into stage 1, broker, stage 2 and
// gathering: the serving study's figure (throughput and latency breakdown vs objects per frame).
// Thread safety: free functions on values.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "report/results.h"

namespace optic::report {

struct PipelinePoint {
  int objects = 0;          // objects per frame
  double frames_per_s = 0;  // loaded phase
  double objects_per_s = 0;
  double p50_ms = 0;        // zero-load frame latency
  double stage1_ms = 0, broker_ms = 0, stage2_ms = 0, gather_ms = 0;  // zero-load means
};

struct PipelineSeries {
  std::string label;  // "redis, 2 workers" (with model, backend and device when they differ)
  std::vector<PipelinePoint> points;  // by objects per frame
};

// Ok rows of kind pipeline; a later row of the same series and objects count replaces an earlier
// one (a re-run appended to the same file).
std::vector<PipelineSeries> PipelineSeriesOf(const ResultsSet& results);
// "## Pipelines": one table, a row per series and objects count; nothing without series.
void WritePipelineMarkdown(const std::vector<PipelineSeries>& series, std::ostream& out);
// A self-contained HTML section: throughput (frames/s) vs objects per frame, one line per series,
// and the zero-load latency as stacked bars (stage 1, broker, stage 2, gather) per objects count
// and series. Empty without series.
std::string PipelineHtml(const std::vector<PipelineSeries>& series);

}  // namespace optic::report
