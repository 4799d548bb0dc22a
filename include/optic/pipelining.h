// Optional interface: a Model that keeps several batches in flight on an accelerator, so that
// batch i+1's upload overlaps batch i's compute and batch i-1's download (the seeds' overlapped
// predict(x)). Models find it with dynamic_cast<PipelinedExecution*>(model); callers must work
// without it (CPU backends do not implement it) and may always use Model::Execute instead.
//
// Usage: Submit up to max_in_flight() batches, then Collect the oldest before submitting more.
// Collect returns batches in Submit order (FIFO).
//
// Ownership: Submit borrows the input tensors until the Collect that returns that batch; the
// caller must keep them alive and unchanged until then. Inputs allocated with AllocateHostInput
// are page-locked, so they are uploaded by DMA straight from the caller's memory; other inputs
// are first copied into the model's own page-locked staging (host CPU time on the caller's
// thread). Outputs returned by Collect are new host tensors owned by the caller.
// Threading: like Execute, one caller at a time; Submit, Collect and Execute must not run
// concurrently on one Model. Execute while batches are in flight is refused (kUnavailable).
// Failure: a failed Submit leaves nothing in flight for that batch; a failed Collect still
// retires its batch. After a failure the model stays usable.
#pragma once

#include <cstdint>
#include <vector>

#include "optic/phase_timing.h"
#include "optic/status.h"
#include "optic/tensor.h"

namespace optic {

class PipelinedExecution {
 public:
  virtual ~PipelinedExecution() = default;
  // How many batches may be submitted before the oldest must be collected (>= 1).
  virtual int max_in_flight() const = 0;
  virtual int in_flight() const = 0;
  virtual Status Submit(const std::vector<Tensor>& inputs) = 0;
  // Waits for the oldest submitted batch. `phases` (optional) gets its device-side H2D, compute
  // and D2H times, measured with events on the model's streams.
  virtual Status Collect(std::vector<Tensor>* outputs, ExecutePhases* phases) = 0;
  // A host tensor in page-locked memory that Submit and Execute upload without a staging copy.
  // The tensor may outlive the model.
  virtual Status AllocateHostInput(DType dtype, const Shape& shape, Tensor* out) = 0;
};

}  // namespace optic
