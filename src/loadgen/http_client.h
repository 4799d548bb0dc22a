// A blocking HTTP/1.1 keep-alive client (Boost.Beast) for the load generator: one connection per
// client object, reopened once when the server closed it.
// Threading: one thread per HttpClient. Failure: a Status naming the host and the socket error.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "optic/status.h"

namespace optic::loadgen {

struct HttpResult {
  int status = 0;
  std::string body;
  std::string header_length;  // Inference-Header-Content-Length of the reply, if any
};

class HttpClient {
 public:
  HttpClient(std::string host, std::string port);
  ~HttpClient();
  Status Request(const std::string& method, const std::string& target, const std::string& body,
                 const std::map<std::string, std::string>& headers, HttpResult* out);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// "host:port" (or "http://host:port") -> parts; kInvalidArgument otherwise.
Status SplitUrl(const std::string& url, std::string* host, std::string* port);

}  // namespace optic::loadgen
