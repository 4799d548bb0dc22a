// The inference service both front ends call: typed requests in (infer_request.h), typed answers
// out, whatever the protocol. The HTTP router decodes KServe JSON/binary bodies (codec.h) and the
// gRPC server decodes protobuf messages (grpc_codec.h) into an InferenceRequest; the service
// resolves the model, validates the request against its signature (the same checks for both),
// queues it on the model's dynamic batcher (or runs the ensemble), keeps statistics and the
// in-flight count, and refuses work while shutting down. Each codec encodes the answer itself.
//
// Ownership: borrows the repository (which outlives it). A request's borrowed bytes stay alive
// through its keep_alive until the answer is handed over.
// Threading: every method may be called from any number of threads at once. Infer's `done` runs
// exactly once: on the calling thread for a request refused before queueing, else on a batcher
// worker thread (or the scheduler thread for a queue timeout); it must not block for long.
// Failure: a Status with optic's codes (kInvalidArgument bad request, kNotFound unknown model or
// version, kUnavailable queue full / timed out / shutting down, kUnsupported, kInternal backend).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "infer_request.h"
#include "model_repository.h"

namespace optic::server {

struct ServiceOptions {
  CodecLimits limits;
  std::string auth_token;  // non-empty: calls must present "Bearer <token>"
};

struct ServerMetadataInfo {
  std::string name, version;
  std::vector<std::string> extensions;
};

struct TensorMetadataEntry {
  std::string name, datatype;
  Shape shape;  // -1 first when batching
};
struct ModelMetadataInfo {
  std::string name, platform;
  std::vector<std::string> versions;
  std::vector<TensorMetadataEntry> inputs, outputs;
};

class InferenceService {
 public:
  using InferDone = std::function<void(InferenceResponse response)>;
  InferenceService(ModelRepository* repository, ServiceOptions options);

  // Whether `authorization` (the Authorization header or gRPC metadata) may call the service.
  bool Authorized(const std::string& authorization) const;
  static const char* UnauthorizedMessage();

  void Infer(InferenceRequest request, InferDone done);

  static ServerMetadataInfo ServerMetadata();
  bool ready() const;  // not shutting down and every model READY
  std::string NotReadyReason() const;
  // kNotFound for an unknown model or version, kUnavailable while shutting down.
  Status ModelReady(const std::string& model, const std::string& version) const;
  Status ModelMetadata(const std::string& model, const std::string& version,
                       ModelMetadataInfo* out) const;
  Status Find(const std::string& model, const std::string& version,
              std::shared_ptr<ServedModel>* out) const {
    return repository_->Find(model, version, out);
  }
  std::vector<std::shared_ptr<ServedModel>> Loaded() const { return repository_->Loaded(); }
  std::vector<RepositoryEntry> Index(bool ready_only) const;
  Status LoadModel(const std::string& model);
  Status UnloadModel(const std::string& model);

  // After this, ready is false and new inferences and loads are refused with kUnavailable.
  void BeginShutdown() { shutting_down_ = true; }
  bool shutting_down() const { return shutting_down_; }
  // Inference requests accepted and not yet finished.
  int64_t InFlight() const { return inflight_.load(); }
  const ServiceOptions& options() const { return options_; }

 private:
  ModelRepository* repository_;
  ServiceOptions options_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<int64_t> inflight_{0};
};

}  // namespace optic::server
