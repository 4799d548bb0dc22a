// The fused transport: stage 2 on a thread of the driver's process, fed through a bounded queue.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "pipeline/transport.h"

namespace optic::pipeline {
namespace {

class FusedTransport : public Transport {
 public:
  FusedTransport(std::unique_ptr<Embedder> embedder, const FusedSettings& s)
      : embedder_(std::move(embedder)), settings_(s), thread_([this] { Loop(); }) {}
  ~FusedTransport() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    space_cv_.notify_all();
    thread_.join();
  }
  std::string name() const override { return "fused"; }

  Status Send(std::vector<Crop> crops) override {
    std::unique_lock<std::mutex> lock(mu_);
    for (Crop& c : crops) {
      space_cv_.wait(lock, [&] { return stop_ || static_cast<int>(queue_.size()) < settings_.capacity; });
      if (stop_) return Status::Cancelled("fused transport: stopping");
      queue_.push_back(std::move(c));
    }
    work_cv_.notify_one();
    return Status::OK();
  }

  Status Receive(int timeout_ms, std::vector<Result>* out) override {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return !results_.empty() || !error_.ok(); });
    if (!error_.ok()) return error_;
    for (Result& r : results_) out->push_back(std::move(r));
    results_.clear();
    return Status::OK();
  }

 private:
  void Loop() {
    std::vector<Crop> batch;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        // Fan-out batching: whatever is queued, from any frames, up to max_batch.
        while (!queue_.empty() && static_cast<int>(batch.size()) < settings_.max_batch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      space_cv_.notify_all();
      const int64_t deq = NowNs();
      std::vector<const Tensor*> pixels;
      for (const Crop& c : batch) pixels.push_back(&c.pixels);
      std::vector<std::vector<float>> emb;
      Status s = embedder_->Embed(pixels, &emb);
      const int64_t end = NowNs();
      std::lock_guard<std::mutex> lock(mu_);
      if (!s.ok()) {
        error_ = s.Prefixed("fused stage 2");
      } else {
        for (size_t i = 0; i < batch.size(); ++i) {
          results_.push_back({batch[i].frame, batch[i].object, batch[i].enqueue_ns, deq, end,
                              static_cast<int32_t>(batch.size()), "fused", std::move(emb[i])});
        }
      }
      batch.clear();
      done_cv_.notify_all();
    }
  }

  std::unique_ptr<Embedder> embedder_;
  FusedSettings settings_;
  std::mutex mu_;
  std::condition_variable work_cv_, space_cv_, done_cv_;
  std::deque<Crop> queue_;
  std::vector<Result> results_;
  Status error_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace

Status CreateFusedTransport(std::unique_ptr<Embedder> embedder, const FusedSettings& settings,
                            std::unique_ptr<Transport>* out) {
  if (!embedder) return Status::InvalidArgument("fused transport: no embedder");
  *out = std::make_unique<FusedTransport>(std::move(embedder), settings);
  return Status::OK();
}

}  // namespace optic::pipeline
