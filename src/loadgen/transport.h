// What optic load asks of a KServe v2 server, over either of its protocols: the model's
// metadata, its statistics, and one inference request sent again and again. HTTP
// (http_transport.cc: JSON or the binary tensor extension) and gRPC (grpc_transport.cc:
// inference.GRPCInferenceService, tensors as raw_input_contents) implement it; the load
// generator (loadgen.cc) runs the same stages over either.
//
// Ownership: a Transport keeps its own copy of the request after Prepare. Threading: Metadata,
// Prepare and Stats are called from one thread; each client thread gets its own Connection
// (its own TCP connection) from NewConnection, which any thread may call after Prepare.
// Failure: every Status names the server's address; a server's own error keeps its message.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "loadgen/loadgen.h"

namespace optic::loadgen {

// One input of the request, filled from the metadata (the batch dimension resolved): `raw`
// holds its contents as the binary tensor extension and raw_input_contents carry them (BYTES:
// each element as a 4-byte little-endian length and its bytes); `json_data` the same values as
// the JSON "data" array, for HTTP without the binary extension.
struct RequestInput {
  TensorMeta tensor;
  std::string raw;
  nlohmann::json json_data;
};

// The server's cumulative inference statistics for the model (KServe statistics extension).
struct StatsSnapshot {
  bool valid = false;
  double success_count = 0, success_ns = 0, queue_ns = 0, compute_input_ns = 0,
         compute_infer_ns = 0, compute_output_ns = 0;
};

class Connection {
 public:
  virtual ~Connection() = default;
  // Sends the prepared request and waits for the answer: OK, or why not (the server's error
  // with its HTTP status or gRPC code, or the socket error).
  virtual Status Infer() = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Status Metadata(ModelMeta* out) = 0;
  virtual Status Prepare(const std::vector<RequestInput>& inputs, const ModelMeta& meta) = 0;
  virtual std::unique_ptr<Connection> NewConnection() const = 0;
  // A snapshot, or valid = false when the server keeps none for the model.
  virtual Status Stats(StatsSnapshot* out) const = 0;
};

Status CreateHttpTransport(const LoadSettings& settings, std::unique_ptr<Transport>* out);
// kUnsupported when optic was built without the server's gRPC dependencies.
Status CreateGrpcTransport(const LoadSettings& settings, std::unique_ptr<Transport>* out);

}  // namespace optic::loadgen
