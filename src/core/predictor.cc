#include "optic/predictor.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>

namespace optic {

// One persistent thread running tasks in submission order. A thread per batch would cost tens of
// microseconds each, which is visible at batch 1 on small models.
class Predictor::Worker {
 public:
  Worker() : thread_([this] { Loop(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  std::future<Status> Submit(std::function<Status()> fn) {
    std::packaged_task<Status()> task(std::move(fn));
    auto fut = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return fut;
  }

 private:
  void Loop() {
    for (;;) {
      std::packaged_task<Status()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<Status()>> tasks_;
  bool stop_ = false;
  std::thread thread_;
};

Predictor::Predictor(Model* model, const PredictorOptions& options)
    : model_(model), options_(options) {}
Predictor::~Predictor() = default;

Status Predictor::Create(Model* model, const PredictorOptions& options,
                         std::unique_ptr<Predictor>* out) {
  if (model == nullptr) return Status::InvalidArgument("Predictor needs a model");
  if (options.batch_size < 1) {
    return Status::InvalidArgument("batch_size must be >= 1, got " +
                                   std::to_string(options.batch_size));
  }
  std::unique_ptr<Predictor> p(new Predictor(model, options));
  if (options.overlap) p->worker_ = std::make_unique<Worker>();
  *out = std::move(p);
  return Status::OK();
}

namespace {

// Rows [begin, end) of every input, converted to the model's declared dtype and padded to `pad_to`
// rows when asked. A plain slice (no copy) when nothing needs changing.
Status StageBatch(const std::vector<TensorInfo>& declared, const std::vector<Tensor>& inputs,
                  int64_t begin, int64_t end, int64_t pad_to, std::vector<Tensor>* staged) {
  staged->clear();
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor slice;
    OPTIC_RETURN_IF_ERROR(inputs[k].Slice(begin, end, &slice));
    const DType want = k < declared.size() ? declared[k].dtype : slice.dtype();
    if (want != slice.dtype()) {
      Tensor converted;
      OPTIC_RETURN_IF_ERROR(slice.ConvertTo(want, &converted));
      slice = std::move(converted);
    }
    if (pad_to > end - begin) {
      Shape shape = slice.shape();
      shape[0] = pad_to;
      Tensor padded;
      OPTIC_RETURN_IF_ERROR(Tensor::Empty(slice.dtype(), shape, &padded));
      std::memcpy(padded.raw(), slice.raw(), slice.nbytes());
      std::memset(static_cast<char*>(padded.raw()) + slice.nbytes(), 0,
                  padded.nbytes() - slice.nbytes());
      slice = std::move(padded);
    }
    staged->push_back(std::move(slice));
  }
  return Status::OK();
}

// Copies the first `rows` rows of each batch output into the full outputs at row `at`,
// allocating the full outputs on the first batch.
Status ScatterOutputs(const std::vector<Tensor>& batch_out, int64_t at, int64_t rows,
                      int64_t total_rows, std::vector<Tensor>* outputs) {
  if (outputs->empty()) {
    for (const Tensor& t : batch_out) {
      if (t.rank() == 0) return Status::Internal("model returned a scalar output");
      Shape shape = t.shape();
      shape[0] = total_rows;
      Tensor full;
      OPTIC_RETURN_IF_ERROR(Tensor::Empty(t.dtype(), shape, &full));
      outputs->push_back(std::move(full));
    }
  }
  if (batch_out.size() != outputs->size()) {
    return Status::Internal("model returned a different number of outputs between batches");
  }
  for (size_t k = 0; k < batch_out.size(); ++k) {
    const Tensor& src = batch_out[k];
    Tensor& dst = (*outputs)[k];
    if (src.dtype() != dst.dtype() || src.rank() != dst.rank() || src.dim(0) < rows) {
      return Status::Internal("output " + std::to_string(k) + " changed shape between batches: " +
                              src.DebugString() + " vs " + dst.DebugString());
    }
    Tensor window;
    OPTIC_RETURN_IF_ERROR(dst.Slice(at, at + rows, &window));
    const size_t bytes = window.nbytes();
    std::memcpy(window.raw(), src.raw(), bytes);
  }
  return Status::OK();
}

}  // namespace

Status Predictor::Predict(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) {
  const auto& declared = model_->inputs();
  if (inputs.size() != declared.size()) {
    return Status::InvalidArgument("model takes " + std::to_string(declared.size()) +
                                   " inputs, got " + std::to_string(inputs.size()));
  }
  if (inputs.empty() || inputs[0].rank() == 0) {
    return Status::InvalidArgument("inputs need a batch axis");
  }
  const int64_t total = inputs[0].dim(0);
  for (const Tensor& t : inputs) {
    if (t.rank() == 0 || t.dim(0) != total) {
      return Status::InvalidArgument("all inputs must have the same number of rows (axis 0)");
    }
  }
  outputs->clear();
  if (total == 0) return Status::InvalidArgument("empty input (0 rows)");
  const int64_t bs = options_.batch_size;
  const int64_t nbatches = (total + bs - 1) / bs;
  auto rows_of = [&](int64_t i) { return std::min(bs, total - i * bs); };
  auto pad_of = [&](int64_t i) { return options_.pad_last_batch ? bs : rows_of(i); };
  auto where = [&](int64_t i) {
    return "batch " + std::to_string(i + 1) + " of " + std::to_string(nbatches) + " (rows " +
           std::to_string(i * bs) + ".." + std::to_string(i * bs + rows_of(i) - 1) + ")";
  };

  // Fast path: one batch that needs no padding. The model's outputs are returned as they are.
  if (nbatches == 1 && pad_of(0) == rows_of(0)) {
    std::vector<Tensor> staged;
    OPTIC_RETURN_IF_ERROR(StageBatch(declared, inputs, 0, total, 0, &staged));
    ++stats_.batches;
    return model_->Execute(staged, outputs);
  }

  // Double-buffered pipeline: while batch i executes here, the worker stages batch i+1 and
  // scatters batch i-1's outputs. Tasks run in submission order on the one worker thread.
  std::vector<Tensor> staged[2];
  std::vector<Tensor> produced[2];
  auto stage = [&](int64_t i) {
    Status s = StageBatch(declared, inputs, i * bs, i * bs + rows_of(i), pad_of(i), &staged[i % 2]);
    return s.ok() ? s : s.Prefixed(where(i));
  };
  auto scatter = [&](int64_t i) {
    return ScatterOutputs(produced[i % 2], i * bs, rows_of(i), total, outputs);
  };
  auto run_async = [&](std::function<Status()> fn) {
    if (worker_) return worker_->Submit(std::move(fn));
    std::promise<Status> p;
    p.set_value(fn());
    return p.get_future();
  };

  std::future<Status> staging = run_async([&] { return stage(0); });
  std::future<Status> scattering;
  for (int64_t i = 0; i < nbatches; ++i) {
    Status staged_ok = staging.get();
    if (!staged_ok.ok()) {
      if (scattering.valid()) scattering.wait();  // it references this frame's buffers
      return staged_ok;
    }
    // Buffer (i+1)%2 is free once batch i-1's scatter finished, which precedes this task in the
    // worker's queue, so the staging of i+1 may be queued now.
    if (i + 1 < nbatches) staging = run_async([&, i] { return stage(i + 1); });
    std::vector<Tensor> out;
    Status s = model_->Execute(staged[i % 2], &out);
    if (!s.ok()) {
      if (staging.valid()) staging.wait();
      if (scattering.valid()) scattering.wait();
      return s.Prefixed(where(i));
    }
    if (scattering.valid()) OPTIC_RETURN_IF_ERROR(scattering.get());
    produced[i % 2] = std::move(out);
    scattering = run_async([&, i] { return scatter(i); });
    ++stats_.batches;
    if (pad_of(i) > rows_of(i)) stats_.padded_rows += pad_of(i) - rows_of(i);
  }
  if (scattering.valid()) OPTIC_RETURN_IF_ERROR(scattering.get());
  return Status::OK();
}

Status Predictor::Predict(const Tensor& x, Tensor* y) {
  std::vector<Tensor> out;
  OPTIC_RETURN_IF_ERROR(Predict(std::vector<Tensor>{x}, &out));
  if (out.size() != 1) {
    return Status::InvalidArgument("model has " + std::to_string(out.size()) +
                                   " outputs; use the vector form of Predict");
  }
  *y = std::move(out[0]);
  return Status::OK();
}

}  // namespace optic
