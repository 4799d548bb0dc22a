#include "model_stats.h"

#include <chrono>

namespace optic::server {
namespace {

uint64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json Dur(const StatDuration& d) { return {{"count", d.count}, {"ns", d.ns}}; }

const char* ReasonName(FailReason r) {
  switch (r) {
    case FailReason::kRejected: return "REJECTED";
    case FailReason::kCanceled: return "CANCELED";
    case FailReason::kBackend: return "BACKEND";
    case FailReason::kOther: return "OTHER";
  }
  return "OTHER";
}

struct Family {
  const char* name;
  const char* type;
  const char* help;
};

// Triton's metric families (names, types and help as Triton exports them).
const Family kFamilies[] = {
    {"nv_inference_request_success", "counter",
     "Number of successful inference requests, all batch sizes"},
    {"nv_inference_request_failure", "counter",
     "Number of failed inference requests, all batch sizes"},
    {"nv_inference_count", "counter", "Number of inferences performed (does not include cached requests)"},
    {"nv_inference_exec_count", "counter",
     "Number of model executions performed (does not include cached requests)"},
    {"nv_inference_request_duration_us", "counter",
     "Cumulative inference request duration in microseconds (includes cached requests)"},
    {"nv_inference_queue_duration_us", "counter",
     "Cumulative inference queuing duration in microseconds (includes cached requests)"},
    {"nv_inference_compute_input_duration_us", "counter",
     "Cumulative compute input duration in microseconds (does not include cached requests)"},
    {"nv_inference_compute_infer_duration_us", "counter",
     "Cumulative compute inference duration in microseconds (does not include cached requests)"},
    {"nv_inference_compute_output_duration_us", "counter",
     "Cumulative inference compute output duration in microseconds (does not include cached requests)"},
    {"nv_inference_pending_request_count", "gauge",
     "Instantaneous number of pending requests awaiting execution per-model."},
    {"nv_gpu_utilization", "gauge", "GPU utilization rate [0.0 - 1.0)"},
    {"nv_gpu_memory_total_bytes", "gauge", "GPU total memory, in bytes"},
    {"nv_gpu_memory_used_bytes", "gauge", "GPU used memory, in bytes"},
    {"nv_gpu_power_usage", "gauge", "GPU power usage in watts"},
    {"nv_gpu_power_limit", "gauge", "GPU power management limit in watts"},
    {"nv_energy_consumption", "counter", "GPU energy consumption in joules since the Triton Server started"},
};

}  // namespace

void ModelStats::RecordSuccess(uint64_t request_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  success_.Add(request_ns);
  request_ns_total_ += request_ns;
  last_inference_ms_ = NowMs();
}

void ModelStats::RecordFailure(FailReason reason, uint64_t request_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_.Add(request_ns);
  request_ns_total_ += request_ns;
  ++failures_[reason];
}

void ModelStats::RecordQueue(uint64_t queue_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.Add(queue_ns);
}

void ModelStats::RecordCompute(uint64_t input_ns, uint64_t infer_ns, uint64_t output_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  compute_input_.Add(input_ns);
  compute_infer_.Add(infer_ns);
  compute_output_.Add(output_ns);
}

void ModelStats::RecordExecution(int64_t rows, uint64_t input_ns, uint64_t infer_ns,
                                 uint64_t output_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  inference_count_ += static_cast<uint64_t>(rows);
  ++execution_count_;
  BatchStat& b = batches_[rows];
  b.input.Add(input_ns);
  b.infer.Add(infer_ns);
  b.output.Add(output_ns);
}

void ModelStats::AddPending(int delta) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_ += delta;
}

void ModelStats::SetMemoryUsage(std::vector<MemoryUsage> usage) {
  std::lock_guard<std::mutex> lock(mu_);
  memory_usage_ = std::move(usage);
}

nlohmann::json ModelStats::ToJson(const std::string& model, const std::string& version) const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json batches = nlohmann::json::array();
  for (const auto& [size, b] : batches_) {
    batches.push_back({{"batch_size", size},
                       {"compute_input", Dur(b.input)},
                       {"compute_infer", Dur(b.infer)},
                       {"compute_output", Dur(b.output)}});
  }
  nlohmann::json memory = nlohmann::json::array();
  for (const MemoryUsage& u : memory_usage_) {
    memory.push_back({{"type", u.type}, {"id", u.id}, {"byte_size", u.byte_size}});
  }
  return {{"name", model},
          {"version", version},
          {"last_inference", last_inference_ms_},
          {"inference_count", inference_count_},
          {"execution_count", execution_count_},
          {"inference_stats",
           {{"success", Dur(success_)},
            {"fail", Dur(fail_)},
            {"queue", Dur(queue_)},
            {"compute_input", Dur(compute_input_)},
            {"compute_infer", Dur(compute_infer_)},
            {"compute_output", Dur(compute_output_)},
            {"cache_hit", Dur({})},
            {"cache_miss", Dur({})}}},
          {"response_stats", nlohmann::json::object()},
          {"batch_stats", batches},
          {"memory_usage", memory}};
}

void ModelStats::AppendPrometheus(const std::string& model, const std::string& version,
                                  std::map<std::string, std::string>* families) const {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string labels = "model=\"" + model + "\",version=\"" + version + "\"";
  auto add = [&](const char* family, const std::string& extra, uint64_t value) {
    (*families)[family] += std::string(family) + "{" + labels + extra + "} " +
                           std::to_string(value) + "\n";
  };
  add("nv_inference_request_success", "", success_.count);
  for (FailReason r : {FailReason::kRejected, FailReason::kCanceled, FailReason::kBackend,
                       FailReason::kOther}) {
    auto it = failures_.find(r);
    add("nv_inference_request_failure", std::string(",reason=\"") + ReasonName(r) + "\"",
        it == failures_.end() ? 0 : it->second);
  }
  add("nv_inference_count", "", inference_count_);
  add("nv_inference_exec_count", "", execution_count_);
  add("nv_inference_request_duration_us", "", request_ns_total_ / 1000);
  add("nv_inference_queue_duration_us", "", queue_.ns / 1000);
  add("nv_inference_compute_input_duration_us", "", compute_input_.ns / 1000);
  add("nv_inference_compute_infer_duration_us", "", compute_infer_.ns / 1000);
  add("nv_inference_compute_output_duration_us", "", compute_output_.ns / 1000);
  add("nv_inference_pending_request_count", "", static_cast<uint64_t>(pending_ < 0 ? 0 : pending_));
}

std::string PrometheusDocument(const std::map<std::string, std::string>& families) {
  std::string out;
  for (const Family& f : kFamilies) {
    auto it = families.find(f.name);
    if (it == families.end()) continue;
    out += std::string("# HELP ") + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type +
           "\n" + it->second;
  }
  return out;
}

}  // namespace optic::server
