// The KServe v2 / Triton HTTP endpoints, independent of the socket: the HTTP front end (and
// tests) hand a request in and get one reply back through a callback. Each handler decodes the
// HTTP form (codec.h for infer), calls the InferenceService, which the gRPC server shares, and
// encodes its answer as JSON or a binary-extension body.
//
// Ownership: the Router borrows the repository (which outlives it) and owns the service. A
// request's body is shared with the queued inference so borrowed input tensors stay valid.
// Threading: Handle may be called from any number of threads at once. `reply` is called exactly
// once, on the calling thread (everything but infer) or through `post` (infer, after the batch).
// Failure: every error is a reply {"error": "..."} with Triton's status mapping (400, 401, 404,
// 405, 501, 503); nothing a client sends aborts the process.
// Matching: one table of (method, path pattern) -> handler. A path no pattern matches is 404; a
// path that matches only under other methods is 405 naming them, and runs no handler.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec.h"
#include "inference_service.h"
#include "model_repository.h"

namespace optic::server {

struct RouterOptions {
  CodecLimits limits;
  std::string auth_token;  // non-empty: every endpoint but /v2/health/* needs "Bearer <token>"
};

struct HttpRequestView {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path with optional query
  std::shared_ptr<const std::string> body;
  std::optional<std::string> header_length;  // Inference-Header-Content-Length
  std::string authorization;
  // Runs work on the connection's own executor (its strand); empty: the router's PostFn. An
  // inference answer is encoded there and written from the same handler, one handoff.
  std::function<void(std::function<void()>)> post;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  size_t header_length = 0;  // > 0: send Inference-Header-Content-Length
  std::vector<Tensor> tail;  // binary outputs sent after `body`, from the tensors' memory
};

class Router {
 public:
  using PostFn = std::function<void(std::function<void()>)>;
  Router(ModelRepository* repository, RouterOptions options, PostFn post);

  void Handle(const HttpRequestView& request, std::function<void(HttpReply)> reply);
  // After this, ready answers 503 and new inferences are refused with 503.
  void BeginShutdown() { service_.BeginShutdown(); }
  bool ready() const { return service_.ready(); }
  // Inference requests accepted and not yet answered (over HTTP and gRPC).
  int64_t InFlight() const { return service_.InFlight(); }
  // The service behind these endpoints, for the gRPC front end.
  InferenceService* service() { return &service_; }

 private:
  // Path segments captured by a pattern's "{m}" (model) and "{v}" (version) segments.
  struct PathParams {
    std::string model, version;
  };
  using ReplyFn = std::function<void(HttpReply)>;
  using Handler = void (Router::*)(const PathParams&, const HttpRequestView&, ReplyFn);
  struct Route {
    const char* method;
    std::vector<std::string> pattern;  // literal segments, "{m}" or "{v}"
    Handler handler;
  };
  static const std::vector<Route>& Routes();

  void Live(const PathParams&, const HttpRequestView&, ReplyFn reply);
  void Ready(const PathParams&, const HttpRequestView&, ReplyFn reply);
  void ServerMetadata(const PathParams&, const HttpRequestView&, ReplyFn reply);
  void Metrics(const PathParams&, const HttpRequestView&, ReplyFn reply);
  void AllStats(const PathParams&, const HttpRequestView&, ReplyFn reply);
  void ModelMetadata(const PathParams& p, const HttpRequestView&, ReplyFn reply);
  void ModelReady(const PathParams& p, const HttpRequestView&, ReplyFn reply);
  void ModelConfigReply(const PathParams& p, const HttpRequestView&, ReplyFn reply);
  void ModelStats(const PathParams& p, const HttpRequestView&, ReplyFn reply);
  void RepositoryIndex(const PathParams&, const HttpRequestView& request, ReplyFn reply);
  void RepositoryLoad(const PathParams& p, const HttpRequestView&, ReplyFn reply);
  void RepositoryUnload(const PathParams& p, const HttpRequestView&, ReplyFn reply);
  void Infer(const PathParams& p, const HttpRequestView& request, ReplyFn reply);

  ModelRepository* repository_;
  InferenceService service_;
  PostFn post_;
};

HttpReply ErrorReply(const Status& status);

}  // namespace optic::server
