#include "http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <sstream>
#include <thread>

namespace optic::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Router* router, const HttpOptions& options)
      : stream_(std::move(socket)), router_(router), options_(options) {
    // Beast sizes each socket read by the buffer's free capacity (at least 512 bytes), and the
    // parser drains the buffer into the body after every read, so it never grows: without this
    // a 602 KB tensor request took ~1200 reads of 512 bytes (each an epoll wake-up and a timer
    // reset), 5 ms of the 6 ms median at concurrency 1 (bench/server_vs_triton.sh).
    buffer_.reserve(64 * 1024);
  }

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(options_.idle_timeout_s));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      Write({413, "application/json",
             "{\"error\":\"request body exceeds the server's limit of " +
                 std::to_string(options_.max_body_bytes) + " bytes\"}",
             0});
      return;
    }
    if (ec) {
      // A malformed request line or header gets 400; a closed or timed-out connection nothing.
      if (ec.category() == http::make_error_code(http::error::bad_target).category() && ec != http::error::end_of_stream &&
          ec != http::error::partial_message) {
        keep_alive_ = false;
        Write({400, "application/json", "{\"error\":\"malformed HTTP request: " + ec.message() + "\"}", 0});
        return;
      }
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    auto req = parser_->release();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    HttpRequestView view;
    view.method = std::string(req.method_string());
    view.target = std::string(req.target());
    if (auto it = req.find("Inference-Header-Content-Length"); it != req.end()) {
      view.header_length = std::string(it->value());
    }
    if (auto it = req.find(http::field::authorization); it != req.end()) {
      view.authorization = std::string(it->value());
    }
    view.body = std::make_shared<const std::string>(std::move(req.body()));
    stream_.expires_never();  // an inference may wait in the queue longer than the idle timeout
    auto self = shared_from_this();
    view.post = [self](std::function<void()> fn) {
      asio::post(self->stream_.get_executor(), std::move(fn));
    };
    // An inference is answered from a handler already on this connection's strand (view.post),
    // so dispatch writes at once; other replies come on the reading thread, also the strand.
    router_->Handle(view, [self](HttpReply reply) {
      asio::dispatch(self->stream_.get_executor(),
                     [self, r = std::move(reply)]() mutable { self->Write(std::move(r)); });
    });
  }

  void Write(HttpReply reply) {
    if (!reply.tail.empty()) return WriteGathered(std::move(reply));
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), version_ ? version_ : 11);
    res->set(http::field::server, "optic");
    res->set(http::field::content_type, reply.content_type);
    if (reply.header_length > 0) {
      res->set("Inference-Header-Content-Length", std::to_string(reply.header_length));
    }
    res->keep_alive(keep_alive_);
    res->body() = std::move(reply.body);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        if (ec || !self->keep_alive_) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          return;
                        }
                        self->Read();
                      });
  }

  // A binary answer whose outputs are sent from the tensors' memory: the header (with its
  // Content-Length), the JSON and every tensor in one gathered write, so the client gets one
  // stream of segments and nothing is copied into a body.
  void WriteGathered(HttpReply reply) {
    struct Pending {
      std::string head;
      HttpReply reply;
    };
    auto p = std::make_shared<Pending>();
    p->reply = std::move(reply);
    http::response_header<> res;
    res.version(version_ ? version_ : 11);
    res.result(static_cast<http::status>(p->reply.status));
    res.set(http::field::server, "optic");
    res.set(http::field::content_type, p->reply.content_type);
    res.set("Inference-Header-Content-Length", std::to_string(p->reply.header_length));
    size_t total = p->reply.body.size();
    for (const Tensor& t : p->reply.tail) total += t.nbytes();
    res.set(http::field::content_length, std::to_string(total));
    if (!keep_alive_) res.set(http::field::connection, "close");
    else if (res.version() < 11) res.set(http::field::connection, "keep-alive");
    std::ostringstream head;
    head << res;
    p->head = head.str();
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(2 + p->reply.tail.size());
    buffers.emplace_back(asio::buffer(p->head));
    buffers.emplace_back(asio::buffer(p->reply.body));
    for (const Tensor& t : p->reply.tail) buffers.emplace_back(t.raw(), t.nbytes());
    asio::async_write(stream_, buffers, [self = shared_from_this(), p](beast::error_code ec, size_t) {
      if (ec || !self->keep_alive_) return self->Close();
      self->Read();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Router* router_;
  const HttpOptions& options_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

}  // namespace

class HttpServer::Impl {
 public:
  explicit Impl(int threads) : ioc(threads), acceptor(ioc), work(asio::make_work_guard(ioc)) {}
  void Accept(Router* router, const HttpOptions& options) {
    acceptor.async_accept(asio::make_strand(ioc), [this, router, &options](beast::error_code ec,
                                                                            tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(socket), router, options)->Start();
      }
      Accept(router, options);
    });
  }
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::vector<std::thread> threads;
};

HttpServer::HttpServer(HttpOptions options) : options_(std::move(options)) {
  impl_ = std::make_unique<Impl>(std::max(1, options_.threads));
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  if (router_ == nullptr) return Status::Internal("HttpServer started without a router");
  beast::error_code ec;
  const auto address = asio::ip::make_address(options_.host, ec);
  if (ec) return Status::InvalidArgument("bind address '" + options_.host + "': " + ec.message());
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acc.local_endpoint().port();
  impl_->Accept(router_, options_);
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
  return Status::OK();
}

void HttpServer::Post(std::function<void()> fn) { asio::post(impl_->ioc, std::move(fn)); }

void HttpServer::Stop() {
  if (!impl_) return;
  asio::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

}  // namespace optic::server
