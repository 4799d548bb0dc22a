// A stage-2 worker on Redis Streams (`optic pipeline worker`): reads crops in the consumer group
// <stream>:stage2, embeds them in batches (crops of several frames together), XADDs each result to
// the reply stream the crop names, then XACKs and XDELs the crops.
//
// Delivery is at least once: a result is written before its crop is acknowledged, so a worker
// killed in between leaves the crop pending; every worker takes over crops pending longer than
// claim_idle_ms with XAUTOCLAIM, and the gatherer keeps one result per (frame, object).
// A malformed crop (missing field, bad number, wrong shape or size) is acknowledged, copied with
// its reason to <stream>:dead and reported on stderr; the worker goes on.
// Threading: RunWorker blocks the calling thread until *stop is set (checked every block_ms) or
// the worker has been idle for exit_idle_s.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "optic/backend.h"
#include "optic/status.h"
#include "pipeline/transport.h"

namespace optic::pipeline {

struct WorkerSettings {
  std::string broker = "redis://127.0.0.1:6379";
  StreamNames names;
  std::string consumer;  // unique per worker; default worker-<pid>
  std::string backend = "onnxruntime";
  std::string embedder_file = "models/face_embedder/model.onnx";
  LoadOptions load;
  int max_batch = 32;
  int claim_idle_ms = 2000;
  int block_ms = 100;
  double exit_idle_s = 0;  // 0: run until stopped
};

struct WorkerStats {
  int64_t crops = 0;
  int64_t batches = 0;
  int64_t claimed = 0;       // taken over from other consumers
  int64_t dead_letters = 0;
};

Status RunWorker(const WorkerSettings& settings, const std::atomic<bool>* stop, WorkerStats* stats);

// Makes the consumer group if missing (from id 0).
class RedisClient;
Status EnsureGroup(RedisClient* redis, const StreamNames& names);

}  // namespace optic::pipeline
