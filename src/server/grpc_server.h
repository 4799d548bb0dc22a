// The gRPC front end: `inference.GRPCInferenceService` (KServe v2 / Triton's grpc_service.proto,
// same field numbers, so tritonclient.grpc works unchanged) on Debian's gRPC++ callback API.
// Every RPC is translated onto the Router's endpoints, so gRPC shares the HTTP side's checks,
// batcher, statistics, bearer token and shutdown behaviour; HTTP statuses become gRPC codes
// (400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 404 NOT_FOUND, 413 RESOURCE_EXHAUSTED,
// 501 UNIMPLEMENTED, 503 UNAVAILABLE, else INTERNAL).
//
// Ownership: borrows the Router, which must outlive the server (Stop before destroying it).
// Threading: Start/Stop from one controlling thread; RPCs run on gRPC's threads and finish on
// whichever thread the Router answers on (infer: the HTTP server's pool after the batch).
// Failure: Start returns kUnavailable when the address cannot be bound.
// Cost: ModelInfer copies the raw input bytes once into a binary-extension body and the outputs
// once into raw_output_contents (the price of sharing the HTTP codec's checks).
#pragma once

#include <memory>
#include <string>

#include "router.h"

namespace optic::server {

struct GrpcOptions {
  std::string host = "127.0.0.1";
  int port = 8001;  // 0: any free port (see port())
  uint64_t max_message_bytes = uint64_t{64} << 20;
};

class GrpcServer {
 public:
  GrpcServer(GrpcOptions options, Router* router);
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
  Router* router_;
  int port_ = 0;
};

}  // namespace optic::server
