// The KServe v2 / Triton HTTP endpoints, independent of the transport: the HTTP front end (and
// tests) hand a request in and get one reply back through a callback.
//
// Ownership: the Router borrows the repository (which outlives it). A request's body is shared
// with the queued inference so borrowed input tensors stay valid.
// Threading: Handle may be called from any number of threads at once. `reply` is called exactly
// once, on the calling thread (everything but infer) or through `post` (infer, after the batch).
// Failure: every error is a reply {"error": "..."} with Triton's status mapping (400, 401, 404,
// 405, 501, 503); nothing a client sends aborts the process.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "codec.h"
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
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  size_t header_length = 0;  // > 0: send Inference-Header-Content-Length
};

class Router {
 public:
  using PostFn = std::function<void(std::function<void()>)>;
  Router(ModelRepository* repository, RouterOptions options, PostFn post);

  void Handle(const HttpRequestView& request, std::function<void(HttpReply)> reply);
  // After this, ready answers 503 and new inferences are refused with 503.
  void BeginShutdown() { shutting_down_ = true; }
  bool ready() const;
  // Inference requests accepted and not yet answered.
  int64_t InFlight() const { return inflight_.load(); }

 private:
  void Infer(const std::string& model, const std::string& version, const HttpRequestView& request,
             std::function<void(HttpReply)> reply);
  HttpReply HandleGet(const std::vector<std::string>& parts, bool* matched);
  HttpReply HandlePost(const std::vector<std::string>& parts, const HttpRequestView& request,
                 bool* matched);

  ModelRepository* repository_;
  RouterOptions options_;
  PostFn post_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<int64_t> inflight_{0};
};

HttpReply ErrorReply(const Status& status);

}  // namespace optic::server
