// The HTTP/1.1 front end on Boost.Beast/Asio: an acceptor and keep-alive sessions on a pool of
// io_context threads, each request handed to the Router. Bodies over the limit get 413 before
// they are buffered; idle connections close after a timeout.
//
// Ownership: borrows the Router (which outlives the server).
// Threading: Start/Stop from one controlling thread; sessions run on the pool.
// Failure: Start returns kUnavailable when the address cannot be bound (the message names it).
#pragma once

#include <memory>
#include <string>

#include "router.h"

namespace optic::server {

struct HttpOptions {
  std::string host = "127.0.0.1";  // loopback unless asked: a model server is not a public service
  int port = 8000;                 // 0: any free port (see port())
  int threads = 2;
  uint64_t max_body_bytes = uint64_t{64} << 20;
  int idle_timeout_s = 60;
};

class HttpServer {
 public:
  // `router` may be null at construction and set with set_router before Start.
  explicit HttpServer(HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void set_router(Router* router) { router_ = router; }
  // Binds and starts the threads; returns once accepting.
  Status Start();
  // Stops accepting and closes every connection; joins the threads.
  void Stop();
  int port() const { return port_; }
  // Runs `fn` on the server's threads (the Router's Post).
  void Post(std::function<void()> fn);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  HttpOptions options_;
  Router* router_ = nullptr;
  int port_ = 0;
};

}  // namespace optic::server
