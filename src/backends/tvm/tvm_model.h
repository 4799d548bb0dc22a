// A model loaded by the tvm backend: compiled libraries (tvm_compiler.h) run by TVM's Relax VM
// through the TVM runtime's C++ API (libtvm_runtime + libtvm_ffi), no Python at run time.
//
// Batch sizes: untuned, one library with a symbolic batch axis serves every batch. Tuned
// (trials > 0), meta-schedule needs static shapes: a library per batch size, the load's
// batch_size compiled at Load and any other one on its first Execute (cached like the first).
// Execute: host inputs at 64-byte aligned addresses are passed to the VM without a copy (TVM's
// kernels assume that alignment); others are copied into an aligned buffer first. Outputs are
// copied into owning optic tensors.
// Threading: as optic::Model. Each Model has its own VM; TVM's thread pool belongs to the thread
// that calls, so different Models may execute at once on different threads.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "optic/backend.h"
#include "tvm_compiler.h"

namespace optic::tvm_backend {

class TvmModel final : public Model {
 public:
  // Compiles (or finds) the library for `options.batch_size` and starts a VM on it.
  static Status Create(const CompileSettings& settings, const LoadOptions& options,
                       std::unique_ptr<Model>* out);
  ~TvmModel() override;

  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override;

  // Whether the library behind the load came from the cache (for tests and logs).
  bool loaded_from_cache() const { return loaded_from_cache_; }

 private:
  struct Vm;  // TVM runtime objects, kept out of this header
  TvmModel(const CompileSettings& settings, int threads);
  Status VmFor(int64_t batch, Vm** out);

  CompileSettings settings_;
  int threads_ = 0;
  std::vector<TensorInfo> inputs_, outputs_;
  std::map<int64_t, std::unique_ptr<Vm>> vms_;  // by batch; key 0 = any batch
  bool loaded_from_cache_ = false;
};

}  // namespace optic::tvm_backend
