// Kafka as the pipeline's broker, through librdkafka: the driver side (a Transport) and the
// stage-2 worker. Topics share a prefix (default optic.pipeline):
//   <prefix>.crops            crops; workers read it in the consumer group <prefix>.stage2
//   <prefix>.results.<run>    one run's results, read by its driver (assigned, no group)
//   <prefix>.dead             dead letters: the bad message's topic/partition/offset and the reason
// A message's value is the same fields as a Redis stream entry (messages.h), length-prefixed.
//
// Delivery is at least once: a worker produces a batch's results and waits for the broker's acks
// before it commits the batch's offsets, so a worker killed in between leaves them uncommitted and
// the group hands its partitions to another member after session_timeout_ms; the gatherer keeps
// one result per (frame, object).
// Threading: one thread per transport or worker.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "optic/status.h"
#include "pipeline/messages.h"
#include "pipeline/transport.h"
#include "pipeline/worker.h"

namespace optic::pipeline {

// "kafka://host:port" -> "host:port" (librdkafka's bootstrap.servers).
Status ParseKafkaUrl(const std::string& url, std::string* bootstrap);

struct TopicNames {
  std::string prefix = "optic.pipeline";
  std::string crops() const { return prefix + ".crops"; }
  std::string group() const { return prefix + ".stage2"; }
  std::string dead() const { return prefix + ".dead"; }
  // Kafka topic names allow [A-Za-z0-9._-]; other characters of the run id become '-'.
  std::string results(const std::string& run) const;
};

// Length-prefixed fields (u32 count, then u32 length + bytes for each key and value, little
// endian) and back; a truncated or oversized message is kInvalidArgument saying where.
std::string EncodeFields(const Fields& fields);
Status DecodeFields(const std::string& bytes, Fields* out);

Status CreateKafkaTransport(const std::string& url, const TopicNames& names, const std::string& run,
                            std::unique_ptr<Transport>* out);

struct KafkaWorkerSettings {
  std::string broker = "kafka://127.0.0.1:9092";
  TopicNames names;
  std::string consumer;  // client.id; default worker-<pid>
  std::string backend = "onnxruntime";
  std::string embedder_file = "models/face_embedder/model.onnx";
  LoadOptions load;
  int max_batch = 32;
  int session_timeout_ms = 6000;  // the broker's group.min.session.timeout.ms bounds it (6000 by default)
  double exit_idle_s = 0;
};

// One message's value to `topic` (acknowledged by the broker), and every value on partition 0 of
// `topic` that arrives within timeout_ms: for operations and tests (dead letters, damaged input).
Status KafkaProduceValue(const std::string& url, const std::string& topic, const std::string& value);
Status KafkaReadValues(const std::string& url, const std::string& topic, int timeout_ms,
                       std::vector<std::string>* values);

Status RunKafkaWorker(const KafkaWorkerSettings& settings, const std::atomic<bool>* stop, WorkerStats* stats);

}  // namespace optic::pipeline
