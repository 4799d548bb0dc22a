// Input pool of a cell: distinct seeded batches, prepared before any timed region, together
// larger than the last-level cache so a measurement never runs on one cache-resident tensor
// (a notebook measured 323 FPS with one reused input against 145 FPS in a real loop).
// Threading: read-only after Make; any number of threads may read it.
#pragma once

#include <cstdint>
#include <vector>

#include "bench/config.h"
#include "optic/backend.h"
#include "optic/pipelining.h"

namespace optic::bench {

// One batch for `inputs` (batch dimension set to `batch`, every other dimension fixed), in each
// input's dtype, from `seed`. Values in the input's range of `values` (--input-range), else
// DefaultRange (optic/model_source.h): floats [-2, 2) like a normalized image, integers [0, 99].
// With values.data (--input-data), the batch holds the file's rows first_row, first_row + 1, ...
// (cycling) instead.
Status MakeBatch(const std::vector<TensorInfo>& inputs, int batch, uint64_t seed,
                 std::vector<Tensor>* out, const InputSettings& values = {}, int64_t first_row = 0);

class InputPool {
 public:
  // At least settings.pool_min_batches batches and settings.pool_bytes bytes in all. With
  // `host_memory`, the batches live in the model's page-locked input memory (uploaded without a
  // staging copy, as an application that allocates its buffers that way would see).
  static Status Make(const std::vector<TensorInfo>& inputs, int batch,
                     const MeasureSettings& settings, InputPool* out,
                     PipelinedExecution* host_memory = nullptr, const InputSettings& values = {});
  size_t size() const { return batches_.size(); }
  const std::vector<Tensor>& batch(int64_t i) const { return batches_[i % batches_.size()]; }
  int64_t bytes() const { return bytes_; }

 private:
  std::vector<std::vector<Tensor>> batches_;
  int64_t bytes_ = 0;
};

}  // namespace optic::bench
