// The gRPC front end: `inference.GRPCInferenceService` (KServe v2 / Triton's grpc_service.proto,
// same field numbers, so tritonclient.grpc works unchanged) on Debian's gRPC++ callback API.
// Every RPC decodes its message into a typed call on the InferenceService the HTTP router also
// uses (grpc_codec.h for infer), so gRPC shares the checks, batcher, statistics, bearer token and
// shutdown behaviour, never going through JSON or the HTTP router; a Status becomes a gRPC code
// in one place (ToGrpcStatus), a missing token UNAUTHENTICATED, a message over the limit
// RESOURCE_EXHAUSTED (gRPC's own).
//
// Ownership: borrows the service, which must outlive the server (Stop before destroying it).
// Threading: Start/Stop from one controlling thread; RPCs run on gRPC's threads; an inference
// is answered (encoded, finished) on the server's completion threads, off the batcher's worker.
// Failure: Start returns kUnavailable when the address cannot be bound.
// Cost: ModelInfer borrows raw_input_contents (no copy) and copies each output once, into
// raw_output_contents.
#pragma once

#include <memory>
#include <string>

#include "inference_service.h"

namespace optic::server {

struct GrpcOptions {
  std::string host = "127.0.0.1";
  int port = 8001;  // 0: any free port (see port())
  uint64_t max_message_bytes = uint64_t{64} << 20;
};

class GrpcServer {
 public:
  GrpcServer(GrpcOptions options, InferenceService* service);
  ~GrpcServer();  // Stop()
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  Status Start();
  // Stops accepting; waits up to `grace_ms` for RPCs in progress, then cancels them.
  void Stop(int grace_ms = 1000);
  int port() const { return port_; }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  GrpcOptions options_;
  InferenceService* service_;
  int port_ = 0;
};

}  // namespace optic::server
