// Predictor: the seeds' predict(x) -> y over an input of any length. It splits the inputs along
// axis 0 into batches of `batch_size`, runs them through one Model in order, and concatenates the
// outputs. With `overlap` on, a worker thread stages batch i+1 (gather, pad, dtype conversion;
// for device models the upload) and scatters batch i-1's outputs while batch i computes.
//
// Ownership: the Predictor borrows the Model (the caller keeps it alive longer than the
// Predictor). Inputs are borrowed for the duration of Predict; outputs are new owning tensors.
// Threading: one Predict at a time per Predictor (it is the Model's only caller while it runs).
// Failure: the first failing batch stops the run; its Status names the batch ("batch 3 of 7
// (rows 96..127): ..."), and outputs are left unspecified.
#pragma once

#include <memory>
#include <vector>

#include "optic/backend.h"

namespace optic {

struct PredictorOptions {
  int batch_size = 1;
  // Pad the last, partial batch up to batch_size (for models with a static batch dimension);
  // padded rows are dropped from the outputs.
  bool pad_last_batch = false;
  bool overlap = true;  // stage the next batch while the current one runs
};

class Predictor {
 public:
  static Status Create(Model* model, const PredictorOptions& options,
                       std::unique_ptr<Predictor>* out);
  ~Predictor();
  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;

  Status Predict(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs);
  // Single-input, single-output convenience.
  Status Predict(const Tensor& x, Tensor* y);

  struct Stats {
    int64_t batches = 0;
    int64_t padded_rows = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  class Worker;
  Predictor(Model* model, const PredictorOptions& options);
  Model* model_;
  PredictorOptions options_;
  std::unique_ptr<Worker> worker_;
  Stats stats_;
};

}  // namespace optic
