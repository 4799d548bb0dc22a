#include "http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace optic::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class HttpClient::Impl {
 public:
  Impl(std::string host, std::string port) : host(std::move(host)), port(std::move(port)) {
    // Beast sizes each socket read by the buffer's free capacity (at least 512 bytes) and the
    // parser drains it into the body after every read, so without room reserved a 602 KB
    // response is read 512 bytes per recv (see src/server/http_server.cc).
    buffer.reserve(64 * 1024);
  }
  beast::error_code Connect() {
    beast::error_code ec;
    socket.close(ec);
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return ec;
    asio::connect(socket, endpoints, ec);
    if (!ec) socket.set_option(tcp::no_delay(true), ec);
    connected = !ec;
    return ec;
  }
  asio::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
  std::string host, port;
  bool connected = false;
};

HttpClient::HttpClient(std::string host, std::string port)
    : impl_(std::make_unique<Impl>(std::move(host), std::move(port))) {}
HttpClient::~HttpClient() = default;

Status HttpClient::Request(const std::string& method, const std::string& target,
                           const std::string& body, const std::map<std::string, std::string>& headers,
                           HttpResult* out) {
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, impl_->host);
  req.keep_alive(true);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  beast::error_code ec;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->connected && (ec = impl_->Connect())) break;
    http::write(impl_->socket, req, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(uint64_t{1} << 32);
    if (!ec) http::read(impl_->socket, impl_->buffer, parser, ec);
    if (ec) {
      impl_->connected = false;  // the server may have closed an idle keep-alive connection
      continue;
    }
    auto res = parser.release();
    out->status = static_cast<int>(res.result_int());
    out->body = std::move(res.body());
    auto it = res.find("Inference-Header-Content-Length");
    out->header_length = it == res.end() ? "" : std::string(it->value());
    if (!res.keep_alive()) impl_->connected = false;
    return Status::OK();
  }
  return Status::Unavailable("http://" + impl_->host + ":" + impl_->port + target + ": " + ec.message());
}

Status SplitUrl(const std::string& url, std::string* host, std::string* port) {
  std::string u = url;
  if (u.rfind("http://", 0) == 0) u = u.substr(7);
  while (!u.empty() && u.back() == '/') u.pop_back();
  const size_t colon = u.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == u.size()) {
    return Status::InvalidArgument("server address '" + url + "' is not host:port");
  }
  *host = u.substr(0, colon);
  *port = u.substr(colon + 1);
  return Status::OK();
}

}  // namespace optic::loadgen
