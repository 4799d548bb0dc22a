// How crops reach stage 2 and results come back: one interface, one implementation per broker.
//
//   fused  stage 2 on a thread of this process; crops of several frames are batched together
//          (fan-out batching) up to max_batch.
//   redis  Redis Streams: crops are XADDed to <stream>:crops, read by stage-2 worker processes
//          (`optic pipeline worker`, worker.h) in the consumer group <stream>:stage2, results
//          XADDed to a per-run reply stream that Receive reads.
//
// Threading: Send and Receive are called from one thread (the pipeline's driver).
// Back-pressure: the driver bounds the frames in flight, so at most inflight x objects crops are
// queued on any transport; the fused queue also blocks Send when it holds more than its capacity.
// Loss: a broker crash may lose crops; after a reconnect the driver sends the crops of overdue
// frames again (at most once per reconnect) and keeps one result per (frame, object).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "optic/status.h"
#include "pipeline/messages.h"
#include "pipeline/stages.h"

namespace optic::pipeline {

class Transport {
 public:
  virtual ~Transport() = default;
  virtual std::string name() const = 0;
  // Hands one frame's crops to stage 2 (each carries its enqueue time and key).
  virtual Status Send(std::vector<Crop> crops) = 0;
  // Waits up to timeout_ms for results and appends what arrived (possibly nothing).
  virtual Status Receive(int timeout_ms, std::vector<Result>* out) = 0;
  // Results that could not be read back (malformed reply messages), reported and skipped.
  virtual int64_t bad_results() const { return 0; }
  // Times the connection to the broker was lost and made again. A broker that crashed may have
  // lost crops it had not written to disk; the driver then sends overdue frames' crops again
  // (CellSettings::resend_s).
  virtual int64_t reconnects() const { return 0; }
};

struct FusedSettings {
  int max_batch = 32;
  int capacity = 4096;  // crops queued before Send blocks
};
// Takes ownership of the embedder; its thread stops when the transport is destroyed.
Status CreateFusedTransport(std::unique_ptr<Embedder> embedder, const FusedSettings& settings,
                            std::unique_ptr<Transport>* out);

// Stream names under one prefix.
struct StreamNames {
  std::string prefix = "optic:pipeline";
  std::string crops() const { return prefix + ":crops"; }
  std::string group() const { return prefix + ":stage2"; }
  std::string dead() const { return prefix + ":dead"; }
  std::string results(const std::string& run) const { return prefix + ":results:" + run; }
};

// Connects to `url`, creates the consumer group if missing and a reply stream for run `run`.
Status CreateRedisTransport(const std::string& url, const StreamNames& names, const std::string& run,
                            std::unique_ptr<Transport>* out);

}  // namespace optic::pipeline
