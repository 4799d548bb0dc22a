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

#include <cstring>
#include <map>

#include "torch_model.h"  // ToScalarType

namespace optic::torch_backend {
namespace {

// One captured graph: its static device inputs (written before each replay) and the outputs the
// capture produced (overwritten by each replay, read right after it).
struct Captured {
  at::cuda::CUDAGraph graph;
  std::vector<at::Tensor> inputs, outputs;
};

class TorchCudaRunner final : public CudaRunner {
 public:
  explicit TorchCudaRunner(const CudaRunnerSettings& s)
      : s_(s),
        stream_(c10::cuda::getStreamFromPool(/*isHighPriority=*/false,
                                             static_cast<c10::DeviceIndex>(s.device_index))),
        // cudaEventDefault: timing enabled (libtorch's default flags disable timing).
        ev_start_(cudaEventDefault), ev_h2d_(cudaEventDefault), ev_compute_(cudaEventDefault),
        ev_d2h_(cudaEventDefault) {}

  void Run(const std::vector<Tensor>& inputs, const ForwardFn& forward,
           std::vector<at::Tensor>* host_outputs) override {
    have_phases_ = false;
    const c10::Device device(c10::kCUDA, static_cast<c10::DeviceIndex>(s_.device_index));
    c10::cuda::CUDAGuard device_guard(device);
    c10::cuda::CUDAStreamGuard stream_guard(stream_);
    Stage(inputs);
    ev_start_.record(stream_);
    std::vector<at::Tensor> produced;
    if (s_.cuda_graph) {
      Captured& g = GraphFor(inputs, forward);
      for (size_t i = 0; i < g.inputs.size(); ++i) g.inputs[i].copy_(staging_[i], /*non_blocking=*/true);
      ev_h2d_.record(stream_);
      g.graph.replay();
      produced = g.outputs;
    } else {
      std::vector<at::Tensor> dev = Upload();
      ev_h2d_.record(stream_);
      produced = forward(dev, stream_.stream());
    }
    ev_compute_.record(stream_);
    host_outputs->clear();
    for (const at::Tensor& o : produced) {
      const auto type = o.is_floating_point() ? at::kFloat : o.scalar_type();
      at::Tensor host = at::empty(o.sizes(), at::TensorOptions().dtype(type).pinned_memory(true));
      host.copy_(o, /*non_blocking=*/true);  // converts on the GPU, then one D2H copy
      host_outputs->push_back(std::move(host));
    }
    ev_d2h_.record(stream_);
    ev_d2h_.synchronize();
    phases_.h2d_ms = ev_start_.elapsed_time(ev_h2d_);
    phases_.compute_ms = ev_h2d_.elapsed_time(ev_compute_);
    phases_.d2h_ms = ev_compute_.elapsed_time(ev_d2h_);
    have_phases_ = true;
  }

  bool LastPhases(ExecutePhases* out) const override {
    if (!have_phases_) return false;
    *out = phases_;
    return true;
  }

 private:
  // Copies the caller's host inputs into pinned buffers (reallocated when a shape changes), so
  // the uploads are true asynchronous DMA copies on the runner's stream.
  void Stage(const std::vector<Tensor>& inputs) {
    staging_.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& t = inputs[i];
      const auto type = ToScalarType(t.dtype());
      at::Tensor& st = staging_[i];
      if (!st.defined() || st.scalar_type() != type || st.sizes() != at::IntArrayRef(t.shape())) {
        st = at::empty(t.shape(), at::TensorOptions().dtype(type).pinned_memory(true));
      }
      // A large batch is 150+ MB: one thread's memcpy (~6 GB/s here) would cost more than the
      // upload and the forward pass together, so the copy is spread over libtorch's pool.
      auto* dst = static_cast<char*>(st.data_ptr());
      const auto* src = static_cast<const char*>(t.raw());
      at::parallel_for(0, static_cast<int64_t>(t.nbytes()), int64_t{4} << 20,
                       [&](int64_t begin, int64_t end) {
                         std::memcpy(dst + begin, src + begin, static_cast<size_t>(end - begin));
                       });
    }
  }

  at::Tensor Convert(at::Tensor x) const {
    if (x.is_floating_point() && x.scalar_type() != s_.compute_dtype) x = x.to(s_.compute_dtype);
    if (s_.channels_last && x.dim() == 4) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    return x;
  }

  std::vector<at::Tensor> Upload() const {
    const c10::Device device(c10::kCUDA, static_cast<c10::DeviceIndex>(s_.device_index));
    std::vector<at::Tensor> dev;
    for (const at::Tensor& st : staging_) dev.push_back(Convert(st.to(device, /*non_blocking=*/true)));
    return dev;
  }

  // The graph for these input shapes, captured now if it is the first time.
  Captured& GraphFor(const std::vector<Tensor>& inputs, const ForwardFn& forward) {
    std::vector<int64_t> key;
    for (const Tensor& t : inputs) {
      key.insert(key.end(), t.shape().begin(), t.shape().end());
      key.push_back(-1);
    }
    auto it = graphs_.find(key);
    if (it != graphs_.end()) return *it->second;
    auto g = std::make_unique<Captured>();
    g->inputs = Upload();
    for (int i = 0; i < s_.graph_warmup_runs; ++i) forward(g->inputs, stream_.stream());
    stream_.synchronize();
#if TORCH_VERSION_MAJOR >= 2
    // Thread-local mode: other threads (other ensemble members) may use CUDA during the capture.
    g->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
#else
    g->graph.capture_begin();
#endif
    try {
      g->outputs = forward(g->inputs, stream_.stream());
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
  c10::cuda::CUDAStream stream_;
  at::cuda::CUDAEvent ev_start_, ev_h2d_, ev_compute_, ev_d2h_;
  std::vector<at::Tensor> staging_;
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
