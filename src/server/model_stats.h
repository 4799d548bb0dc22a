// Per-model-version counters in Triton's statistics shape (inference_stats, batch_stats), served
// at .../stats as JSON and at /metrics in Prometheus text format with Triton's metric names.
// Thread safety: every method may be called from any thread (one mutex; updates are a few
// additions per request, far below the cost of a request).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "batching/batcher.h"

namespace optic::server {

struct StatDuration {
  uint64_t count = 0;
  uint64_t ns = 0;
  void Add(uint64_t n) { ++count; ns += n; }
};

// Memory a model holds on one device, as Triton's statistics report it: type "CPU", "CPU_PINNED"
// or "GPU", id the device index.
struct MemoryUsage {
  std::string type;
  int64_t id = 0;
  uint64_t byte_size = 0;
};

// Why a request failed, as Triton labels nv_inference_request_failure.
enum class FailReason { kRejected, kCanceled, kBackend, kOther };

class ModelStats : public batching::BatchObserver {
 public:
  // A request answered successfully; `request_ns` from arrival at the server to the response.
  void RecordSuccess(uint64_t request_ns);
  void RecordFailure(FailReason reason, uint64_t request_ns);
  // One request leaving the queue after `queue_ns`.
  void RecordQueue(uint64_t queue_ns) override;
  // One request's share of a batch's compute: each request is charged the batch's full durations
  // (Triton's convention, so compute_infer.ns / count is the batch latency a request saw).
  void RecordCompute(uint64_t input_ns, uint64_t infer_ns, uint64_t output_ns) override;
  // One executed batch of `rows` rows.
  void RecordExecution(int64_t rows, uint64_t input_ns, uint64_t infer_ns, uint64_t output_ns) override;
  void AddPending(int delta) override;
  // What the model's instances hold (set at load; empty where unknown, as Triton reports it for
  // backends that do not measure it).
  void SetMemoryUsage(std::vector<MemoryUsage> usage);

  // {"name","version","last_inference","inference_count","execution_count","inference_stats":
  //  {"success","fail","queue","compute_input","compute_infer","compute_output","cache_hit",
  //  "cache_miss"},"response_stats":{},"batch_stats":[...],"memory_usage":[{"type","id",
  //  "byte_size"}]}. response_stats is Triton's per-response map for decoupled models; optic's
  //  models answer each request once and, like Triton's ONNX Runtime and PyTorch backends, report
  //  none, so it is {}.
  nlohmann::json ToJson(const std::string& model, const std::string& version) const;
  // Prometheus sample lines (no HELP/TYPE headers) labelled model and version.
  void AppendPrometheus(const std::string& model, const std::string& version,
                        std::map<std::string, std::string>* families) const;

 private:
  struct BatchStat {
    StatDuration input, infer, output;
  };
  mutable std::mutex mu_;
  StatDuration success_, fail_, queue_, compute_input_, compute_infer_, compute_output_;
  std::map<FailReason, uint64_t> failures_;
  uint64_t inference_count_ = 0, execution_count_ = 0, last_inference_ms_ = 0;
  int64_t pending_ = 0;
  uint64_t request_ns_total_ = 0;
  std::map<int64_t, BatchStat> batches_;
  std::vector<MemoryUsage> memory_usage_;
};

// HELP/TYPE lines for every family AppendPrometheus writes, then the samples, in one document.
std::string PrometheusDocument(const std::map<std::string, std::string>& families);

}  // namespace optic::server
