// The end-to-end cell (`optic bench --scenario e2e`, docs/bench.md "End to end"): JPEG bytes in,
// model outputs out. Per query: the batch's JPEGs are decoded, resized, cropped and normalized
// (optic/preprocess.h, on the CPU or the GPU) straight into the model's input batch, then run;
// the time is split into decode, preprocess, h2d, infer and d2h (row field stages_ms). After the
// end-to-end steady state the same model runs on already-preprocessed batches to give the
// inference-only throughput of the same cell (inference_only_throughput_per_s), so the ratio
// shows how much preprocessing costs.
// Runs in the child process through RunCellInChild (bench/cell.h), with the meters of every
// cell; one row. Threading: the child's main thread (plus the preprocessor's worker threads).
#pragma once

#include <vector>

#include "bench/cell.h"
#include "optic/preprocess.h"

namespace optic::bench {

// The preprocessing of an e2e cell for a model with these inputs: PreprocessOptionsForInput, the
// rule the server's JPEG-in stage follows too, with the cell's `threads`. kUnsupported for a model
// that is not a single image input.
Status E2EPreprocessOptions(const std::vector<TensorInfo>& inputs, int threads, PreprocessOptions* out);

// The CellKind::kE2E kind of RunCellInChild: fills the cell's row (kUnsupported e.g. for
// --preprocess gpu without CUDA).
Status RunE2ECell(const CellSpec& cell, CellReporter* reporter, results::Row* row);

}  // namespace optic::bench
