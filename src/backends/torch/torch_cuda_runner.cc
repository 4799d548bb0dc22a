// CudaRunner over libtorch's CUDA API (compiled only when libtorch has CUDA; see CMakeLists.txt).
#include "torch_cuda_runner.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <torch/version.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>

#include "torch_model.h"  // ToScalarType

namespace optic::torch_backend {
namespace {

// One captured graph: its static device inputs (written before each replay) and the outputs the
// capture produced (overwritten by each replay, copied out right after it).
struct Captured {
  at::cuda::CUDAGraph graph;
  std::vector<at::Tensor> inputs, outputs;
};

// One batch in flight: where its inputs are staged and uploaded, its results, and the events
// that order the three streams and time the phases.
struct Slot {
  std::vector<at::Tensor> staging;  // pinned copies of pageable caller inputs
  std::vector<at::Tensor> dev_in;   // uploads, in the caller's dtype and layout
  std::vector<at::Tensor> host_out; // this batch's results (pinned host)
  // cudaEventDefault: timing enabled (libtorch's default flags disable timing).
  at::cuda::CUDAEvent h2d_begin{cudaEventDefault}, h2d_end{cudaEventDefault},
      compute_begin{cudaEventDefault}, compute_end{cudaEventDefault},
      d2h_begin{cudaEventDefault}, d2h_end{cudaEventDefault};
};

// True for page-locked host memory (cudaHostAlloc, cudaHostRegister, libtorch's pinned
// allocator): such memory can be the source of an asynchronous DMA upload as it is.
bool IsPinned(const void* p) {
  cudaPointerAttributes a{};
  if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky-free error state of the failed query
    return false;
  }
  return a.type == cudaMemoryTypeHost;
}

bool SameLayout(const at::Tensor& t, c10::ScalarType type, const std::vector<int64_t>& shape) {
  return t.defined() && t.scalar_type() == type && t.sizes() == at::IntArrayRef(shape);
}

class TorchCudaRunner final : public CudaRunner {
 public:
  explicit TorchCudaRunner(const CudaRunnerSettings& s)
      : s_(s),
        device_(c10::kCUDA, static_cast<c10::DeviceIndex>(s.device_index)),
        up_(c10::cuda::getStreamFromPool(false, device_.index())),
        compute_(c10::cuda::getStreamFromPool(false, device_.index())),
        down_(c10::cuda::getStreamFromPool(false, device_.index())) {
    s_.pipeline_depth = std::max(1, s_.pipeline_depth);
    for (int i = 0; i < s_.pipeline_depth; ++i) slots_.push_back(std::make_unique<Slot>());
  }

  ~TorchCudaRunner() override {
    // Work still in flight reads the slots' buffers and the callers' inputs: let it finish.
    try {
      if (count_ > 0) {
        c10::cuda::CUDAGuard guard(device_);
        up_.synchronize();
        compute_.synchronize();
        down_.synchronize();
      }
    } catch (...) {
    }
  }

  int depth() const override { return s_.pipeline_depth; }
  int in_flight() const override { return count_; }

  at::Tensor AllocatePinned(c10::ScalarType type, const std::vector<int64_t>& shape) override {
    return at::empty(shape, at::TensorOptions().dtype(type).pinned_memory(true));
  }

  void Run(const std::vector<Tensor>& inputs, const ForwardFn& forward,
           std::vector<at::Tensor>* host_outputs) override {
    if (count_ > 0) throw std::logic_error("Run while batches are in flight; Collect them first");
    Submit(inputs, forward);
    Collect(host_outputs, nullptr);
  }

  void Submit(const std::vector<Tensor>& inputs, const ForwardFn& forward) override {
    if (count_ >= s_.pipeline_depth) {
      throw std::logic_error("pipeline full (" + std::to_string(count_) + " batches in flight)");
    }
    c10::cuda::CUDAGuard device_guard(device_);
    Slot& slot = *slots_[(head_ + count_) % s_.pipeline_depth];
    const std::vector<at::Tensor> src = Sources(inputs, &slot);

    {  // Upload stream: raw bytes to the slot's device buffers.
      c10::cuda::CUDAStreamGuard g(up_);
      slot.dev_in.resize(src.size());
      slot.h2d_begin.record(up_);
      for (size_t i = 0; i < src.size(); ++i) {
        const std::vector<int64_t> shape(src[i].sizes().begin(), src[i].sizes().end());
        if (!SameLayout(slot.dev_in[i], src[i].scalar_type(), shape)) {
          slot.dev_in[i] = at::empty(shape, at::TensorOptions().dtype(src[i].scalar_type()).device(device_));
        }
        slot.dev_in[i].copy_(src[i], /*non_blocking=*/true);
      }
      slot.h2d_end.record(up_);
    }

    std::vector<at::Tensor> produced;
    {  // Compute stream: convert, forward (or replay), cast the outputs to fp32.
      c10::cuda::CUDAStreamGuard g(compute_);
      slot.h2d_end.block(compute_);
      slot.compute_begin.record(compute_);
      if (s_.cuda_graph) {
        Captured& cg = GraphFor(slot.dev_in, forward);
        for (size_t i = 0; i < cg.inputs.size(); ++i) cg.inputs[i].copy_(slot.dev_in[i], true);
        cg.graph.replay();
        for (const at::Tensor& o : cg.outputs) {
          // Always a copy: the next replay overwrites the graph's own output buffers.
          produced.push_back(o.to(o.is_floating_point() ? at::kFloat : o.scalar_type(),
                                  /*non_blocking=*/false, /*copy=*/true));
        }
      } else {
        std::vector<at::Tensor> dev;
        for (const at::Tensor& x : slot.dev_in) dev.push_back(Convert(x));
        for (const at::Tensor& o : forward(dev, compute_.stream())) {
          produced.push_back(o.is_floating_point() ? o.to(at::kFloat) : o);
        }
      }
      slot.compute_end.record(compute_);
    }

    {  // Download stream: results into fresh pinned host tensors.
      c10::cuda::CUDAStreamGuard g(down_);
      slot.compute_end.block(down_);
      slot.d2h_begin.record(down_);
      slot.host_out.clear();
      for (const at::Tensor& o : produced) {
        at::Tensor host = at::empty(o.sizes(), at::TensorOptions().dtype(o.scalar_type()).pinned_memory(true));
        host.copy_(o, /*non_blocking=*/true);
        // `o` was made on the compute stream and is read here: keep its memory from being
        // reused by the compute stream before this copy has run.
        o.record_stream(down_);
        slot.host_out.push_back(std::move(host));
      }
      slot.d2h_end.record(down_);
    }
    ++count_;
  }

  void Collect(std::vector<at::Tensor>* host_outputs, ExecutePhases* phases) override {
    if (count_ == 0) throw std::logic_error("Collect with no batch in flight");
    Slot& slot = *slots_[head_];
    head_ = (head_ + 1) % s_.pipeline_depth;
    --count_;
    have_phases_ = false;
    c10::cuda::CUDAGuard device_guard(device_);
    slot.d2h_end.synchronize();
    *host_outputs = std::move(slot.host_out);
    slot.host_out.clear();
    phases_.h2d_ms = slot.h2d_begin.elapsed_time(slot.h2d_end);
    phases_.compute_ms = slot.compute_begin.elapsed_time(slot.compute_end);
    phases_.d2h_ms = slot.d2h_begin.elapsed_time(slot.d2h_end);
    have_phases_ = true;
    if (phases) *phases = phases_;
  }

  bool LastPhases(ExecutePhases* out) const override {
    if (!have_phases_) return false;
    *out = phases_;
    return true;
  }

 private:
  // Host tensors to upload from: the caller's memory when it is page-locked, otherwise a copy in
  // the slot's pinned staging (reallocated when a shape changes), so every upload is a true
  // asynchronous DMA copy.
  std::vector<at::Tensor> Sources(const std::vector<Tensor>& inputs, Slot* slot) {
    std::vector<at::Tensor> src;
    slot->staging.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& t = inputs[i];
      const auto type = ToScalarType(t.dtype());
      const std::vector<int64_t> shape(t.shape().begin(), t.shape().end());
      if (!t.is_host()) {  // already on this device (checked by the model): a D2D upload
        if (t.device().index != device_.index()) {
          throw std::invalid_argument("input " + std::to_string(i) + " is on cuda:" +
                                      std::to_string(t.device().index) + ", the model on cuda:" +
                                      std::to_string(device_.index()));
        }
        src.push_back(at::from_blob(const_cast<void*>(t.raw()), shape,
                                    at::TensorOptions().dtype(type).device(device_)));
        continue;
      }
      if (t.nbytes() > 0 && IsPinned(t.raw())) {
        src.push_back(at::from_blob(const_cast<void*>(t.raw()), shape, at::TensorOptions().dtype(type)));
        continue;
      }
      at::Tensor& st = slot->staging[i];
      if (!SameLayout(st, type, shape)) st = AllocatePinned(type, shape);
      // A large batch is 150+ MB: one thread's memcpy (~6 GB/s) would cost more than the upload
      // and the forward pass together, so the copy is spread over libtorch's pool.
      auto* dst = static_cast<char*>(st.data_ptr());
      const auto* from = static_cast<const char*>(t.raw());
      at::parallel_for(0, static_cast<int64_t>(t.nbytes()), int64_t{4} << 20,
                       [&](int64_t begin, int64_t end) {
                         std::memcpy(dst + begin, from + begin, static_cast<size_t>(end - begin));
                       });
      src.push_back(st);
    }
    return src;
  }

  at::Tensor Convert(at::Tensor x) const {
    if (x.is_floating_point() && x.scalar_type() != s_.compute_dtype) x = x.to(s_.compute_dtype);
    if (s_.channels_last && x.dim() == 4) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    return x;
  }

  // The graph for these (device, uploaded) input shapes, captured now on the compute stream if it
  // is the first time. Its static inputs are private copies, never a slot's buffers.
  Captured& GraphFor(const std::vector<at::Tensor>& dev_in, const ForwardFn& forward) {
    std::vector<int64_t> key;
    for (const at::Tensor& t : dev_in) {
      key.insert(key.end(), t.sizes().begin(), t.sizes().end());
      key.push_back(-1);
    }
    auto it = graphs_.find(key);
    if (it != graphs_.end()) return *it->second;
    auto g = std::make_unique<Captured>();
    for (const at::Tensor& x : dev_in) g->inputs.push_back(Convert(x).clone());
    for (int i = 0; i < s_.graph_warmup_runs; ++i) forward(g->inputs, compute_.stream());
    compute_.synchronize();
#if TORCH_VERSION_MAJOR >= 2
    // Thread-local mode: other threads (other ensemble members) may use CUDA during the capture.
    g->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
#else
    g->graph.capture_begin();
#endif
    try {
      g->outputs = forward(g->inputs, compute_.stream());
      g->graph.capture_end();
    } catch (...) {
      try {
        g->graph.capture_end();  // leave the stream out of capture mode
      } catch (...) {
      }
      throw;
    }
    return *graphs_.emplace(std::move(key), std::move(g)).first->second;
  }

  CudaRunnerSettings s_;
  c10::Device device_;
  c10::cuda::CUDAStream up_, compute_, down_;
  std::vector<std::unique_ptr<Slot>> slots_;
  int head_ = 0, count_ = 0;  // oldest slot in flight; batches in flight
  std::map<std::vector<int64_t>, std::unique_ptr<Captured>> graphs_;
  ExecutePhases phases_;
  bool have_phases_ = false;
};

}  // namespace

Status CreateCudaRunner(const CudaRunnerSettings& settings, std::unique_ptr<CudaRunner>* out) {
  try {
    *out = std::make_unique<TorchCudaRunner>(settings);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("torch: cannot set up the CUDA stream: ") + e.what());
  }
  return Status::OK();
}

}  // namespace optic::torch_backend
