// Cross-framework parity: the same seeded input through every backend and precision, compared
// with a reference (the first real backend in registry order, at fp32).
// Thread safety: RunParity loads and runs models on the calling thread only.
#pragma once

#include <string>
#include <vector>

#include "optic/backend.h"
#include "optic/zoo.h"

namespace optic {

// Tolerance on the norm-wise relative error ||out-ref|| / ||ref|| for a precision: fp32 1e-4,
// tf32 1e-3, fp16 and bf16 1e-2, int8 5e-2. (The element-wise max_rel is reported beside it.)
double ParityTolerance(Precision precision);

struct ParityOptions {
  std::vector<std::string> backends;     // empty: every non-synthetic backend compiled in
  std::vector<Precision> precisions;     // empty: every precision each backend supports here
  std::string reference;                 // empty: the first backend of the list that loads
  int batch_size = 2;
  int threads = 0;
  uint64_t seed = 1;
  Device device;
};

struct ParityRow {
  std::string backend;
  Precision precision = Precision::kFP32;
  std::string file;
  bool ran = false;        // loaded and executed; otherwise `error` says why
  bool reference = false;
  std::string error;
  TensorDiff diff;
  double tolerance = 0;
  bool pass = false;       // ran, rel_l2 within tolerance, no NaN
  double load_s = 0;
  double run_ms = 0;
};

// Fails only for problems outside the rows (unknown model, no reference could run); a backend
// that fails to load or run gives a row with ran=false and its reason.
Status RunParity(const Zoo& zoo, const std::string& model, const ParityOptions& options,
                 std::vector<ParityRow>* rows);

// A deterministic input batch for `info` (batch dimension replaced by `batch`), values in [-2, 2)
// like a normalized image, from `seed`.
Status MakeInput(const TensorInfo& info, int64_t batch, uint64_t seed, Tensor* out);

}  // namespace optic
