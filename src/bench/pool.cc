#include "bench/pool.h"

#include <algorithm>
#include <cstring>

#include "optic/parity.h"

namespace optic::bench {

Status MakeBatch(const std::vector<TensorInfo>& inputs, int batch, uint64_t seed,
                 std::vector<Tensor>* out, const InputSettings& values, int64_t first_row) {
  out->clear();
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor t;
    OPTIC_RETURN_IF_ERROR(MakeInputValues(inputs[i], batch, values, seed * 1000003ULL + i, &t, first_row));
    out->push_back(std::move(t));
  }
  return Status::OK();
}

Status InputPool::Make(const std::vector<TensorInfo>& inputs, int batch,
                       const MeasureSettings& settings, InputPool* out,
                       PipelinedExecution* host_memory, const InputSettings& values) {
  InputPool pool;
  for (int64_t i = 0; static_cast<int>(pool.batches_.size()) < settings.pool_min_batches ||
                      pool.bytes_ < settings.pool_bytes;
       ++i) {
    std::vector<Tensor> b;
    OPTIC_RETURN_IF_ERROR(MakeBatch(inputs, batch, settings.seed + static_cast<uint64_t>(i), &b, values, i * batch));
    int64_t bytes = 0;
    for (const auto& t : b) bytes += static_cast<int64_t>(t.nbytes());
    if (bytes == 0) return Status::InvalidArgument("model inputs are empty; nothing to pool");
    if (host_memory) {
      for (Tensor& t : b) {
        Tensor pinned;
        OPTIC_RETURN_IF_ERROR(host_memory->AllocateHostInput(t.dtype(), t.shape(), &pinned)
                                  .Prefixed("input pool"));
        std::memcpy(pinned.raw(), t.raw(), t.nbytes());
        t = std::move(pinned);
      }
    }
    pool.bytes_ += bytes;
    pool.batches_.push_back(std::move(b));
  }
  *out = std::move(pool);
  return Status::OK();
}

}  // namespace optic::bench
