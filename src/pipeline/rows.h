// Results rows of `optic pipeline` (docs/results-schema.md, kind "pipeline"; docs/pipeline.md).
#pragma once

#include <string>

#include "pipeline/runner.h"
#include "results/row.h"

namespace optic::pipeline {

struct RowContext {
  std::string run_id, command;
  std::string backend = "onnxruntime";
  std::string device = "cpu";  // both models' (DeviceName)
  std::string detector = "face_detector", embedder = "face_embedder";
  std::string transport = "fused";
  std::string broker;  // empty for fused
  int workers = 1;
  int max_batch = 32;
  int threads = 1;
  CellSettings cell;
};

// One row per transport and objects-per-frame: throughput_per_s (frames/s) from the loaded
// phase, latency_ms and stages_ms from the zero-load phase; `pipeline` holds the rest.
results::Row PipelineRow(const RowContext& ctx, const CellResult& r, const std::string& error);

}  // namespace optic::pipeline
