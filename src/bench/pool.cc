#include "bench/pool.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "optic/parity.h"

namespace optic::bench {

Status MakeBatch(const std::vector<TensorInfo>& inputs, int batch, uint64_t seed,
                 std::vector<Tensor>* out) {
  out->clear();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorInfo& info = inputs[i];
    const uint64_t s = seed * 1000003ULL + i;
    Tensor t;
    if (info.dtype == DType::kFP32 || info.dtype == DType::kFP16 || info.dtype == DType::kBF16) {
      OPTIC_RETURN_IF_ERROR(MakeInput(info, batch, s, &t));
      if (info.dtype != DType::kFP32) {
        Tensor converted;
        OPTIC_RETURN_IF_ERROR(t.ConvertTo(info.dtype, &converted));
        t = converted;
      }
    } else {
      Shape shape = info.shape;
      if (shape.empty()) return Status::InvalidArgument("input '" + info.name + "' has no batch axis");
      shape[0] = batch;
      if (std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; })) {
        return Status::InvalidArgument("input '" + info.name + "' has a variable dimension besides the batch");
      }
      OPTIC_RETURN_IF_ERROR(Tensor::Empty(info.dtype, shape, &t));
      std::mt19937_64 rng(s);
      auto* bytes = static_cast<uint8_t*>(t.raw());
      // Bytes in [0, 128) are valid values of every integer dtype (no sign surprises).
      for (size_t b = 0; b < t.nbytes(); ++b) bytes[b] = static_cast<uint8_t>(rng() & 0x7f);
    }
    out->push_back(std::move(t));
  }
  return Status::OK();
}

Status InputPool::Make(const std::vector<TensorInfo>& inputs, int batch,
                       const MeasureSettings& settings, InputPool* out,
                       PipelinedExecution* host_memory) {
  InputPool pool;
  for (int64_t i = 0; static_cast<int>(pool.batches_.size()) < settings.pool_min_batches ||
                      pool.bytes_ < settings.pool_bytes;
       ++i) {
    std::vector<Tensor> b;
    OPTIC_RETURN_IF_ERROR(MakeBatch(inputs, batch, settings.seed + static_cast<uint64_t>(i), &b));
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
