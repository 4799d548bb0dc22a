// The end-to-end cell (`optic bench --scenario e2e`, docs/bench.md "End to end"): JPEG bytes in,
// model outputs out. Per query: the batch's JPEGs are decoded, resized, cropped and normalized
// (optic/preprocess.h, on the CPU or the GPU) straight into the model's input batch, then run;
// the time is split into decode, preprocess, h2d, infer and d2h (row field stages_ms). After the
// end-to-end steady state the same model runs on already-preprocessed batches to give the
// inference-only throughput of the same cell (inference_only_throughput_per_s), so the ratio
// shows how much preprocessing costs.
// Runs in the child process; reports one row. Threading: the child's main thread (plus the
// preprocessor's worker threads).
#pragma once

#include <vector>

#include "bench/cell.h"
#include "optic/preprocess.h"

namespace optic::bench {

// The preprocessing of an e2e cell for a model with these inputs: PreprocessOptionsForInput, the
// rule the server's JPEG-in stage follows too, with the cell's `threads`. kUnsupported for a model
// that is not a single image input.
Status E2EPreprocessOptions(const std::vector<TensorInfo>& inputs, int threads, PreprocessOptions* out);

// Like RunCellInChild for a CellKind::kE2E cell: reports one row and returns 0 (also for a
// failed or unsupported cell, e.g. --preprocess gpu without CUDA).
int RunE2ECellInChild(const CellSpec& cell, CellReporter* reporter);

}  // namespace optic::bench
