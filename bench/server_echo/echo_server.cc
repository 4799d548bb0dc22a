// A minimal KServe v2 server that answers every infer request with its own input bytes: the
// transport alone, written on the libraries optic serve uses (Boost.Beast/Asio over N I/O
// threads with keep-alive, a 64 KB read buffer and TCP_NODELAY as optic's http_server.cc; gRPC++'s
// callback API as grpc_server.cc). No queue, no batching, no model. bench/server_latency.sh
// drives it with the same client and request as optic serve's identity model, so the difference
// is what optic adds over the transport.
//
// HTTP: POST /v2/models/<m>/infer with the binary tensor extension: the JSON header is parsed
// (nlohmann, as optic's codec) and the answer is a JSON header naming output "output" with the
// input's datatype and shape, followed by the input's bytes, in one string body (optic's response
// form). GET /v2/models/<m> answers the identity model's metadata (one FP32 input "input" and
// output "output" of --shape rows). Other paths 404.
// gRPC: ModelInfer answers raw_output_contents = raw_input_contents, ModelMetadata as HTTP,
// ModelStatistics an empty list (optic load then reports no server split), others UNIMPLEMENTED.
//   optic_echo_server [--http-port P] [--grpc-port P] [--threads N] [--shape 3x224x224]
// Prints "listening on http://127.0.0.1:P, grpc 127.0.0.1:P" and runs until SIGINT/SIGTERM.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grpc_service.grpc.pb.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

std::vector<int64_t> g_row_shape = {3, 224, 224};
const char* kModel = "identity";

json Metadata() {
  std::vector<int64_t> shape = {-1};
  shape.insert(shape.end(), g_row_shape.begin(), g_row_shape.end());
  return {{"name", kModel},
          {"versions", {"1"}},
          {"platform", "null"},
          {"inputs", {{{"name", "input"}, {"datatype", "FP32"}, {"shape", shape}}}},
          {"outputs", {{{"name", "output"}, {"datatype", "FP32"}, {"shape", shape}}}}};
}

// The answer to a binary-extension infer body, or a status and message.
int EchoHttp(const std::string& body, const std::string& header_length, std::string* out,
             size_t* out_header_length) {
  char* end = nullptr;
  const unsigned long long hlen = std::strtoull(header_length.c_str(), &end, 10);
  if (header_length.empty() || *end != '\0' || hlen > body.size()) {
    *out = R"j({"error":"binary tensor extension expected (Inference-Header-Content-Length)"})j";
    return 400;
  }
  const json req = json::parse(body.begin(), body.begin() + hlen, nullptr, false);
  if (req.is_discarded() || !req.contains("inputs") || req["inputs"].empty()) {
    *out = R"j({"error":"request header is not a KServe v2 request with inputs"})j";
    return 400;
  }
  const json& in = req["inputs"][0];
  const size_t bytes = body.size() - hlen;
  json j = {{"model_name", kModel}, {"model_version", "1"}};
  if (req.contains("id")) j["id"] = req["id"];
  j["outputs"] = json::array({{{"name", "output"},
                               {"datatype", in.value("datatype", "FP32")},
                               {"shape", in.value("shape", json::array())},
                               {"parameters", {{"binary_data_size", bytes}}}}});
  *out = j.dump();
  *out_header_length = out->size();
  out->reserve(out->size() + bytes);
  out->append(body, hlen, bytes);
  return 200;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : stream_(std::move(socket)) { buffer_.reserve(64 * 1024); }
  void Read() {
    parser_.emplace();
    parser_->body_limit(uint64_t{64} << 20);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) return;
    auto req = parser_->release();
    auto res = std::make_shared<http::response<http::string_body>>(http::status::ok, req.version());
    res->set(http::field::server, "optic-echo");
    res->keep_alive(req.keep_alive());
    const std::string target(req.target());
    const std::string model_path = std::string("/v2/models/") + kModel;
    if (req.method() == http::verb::post && target == model_path + "/infer") {
      std::string hlen;
      if (auto it = req.find("Inference-Header-Content-Length"); it != req.end()) hlen = std::string(it->value());
      size_t out_hlen = 0;
      const int status = EchoHttp(req.body(), hlen, &res->body(), &out_hlen);
      res->result(static_cast<http::status>(status));
      res->set(http::field::content_type, status == 200 ? "application/octet-stream" : "application/json");
      if (out_hlen > 0) res->set("Inference-Header-Content-Length", std::to_string(out_hlen));
    } else if (req.method() == http::verb::get && target == model_path) {
      res->set(http::field::content_type, "application/json");
      res->body() = Metadata().dump();
    } else {
      res->result(http::status::not_found);
      res->set(http::field::content_type, "application/json");
      res->body() = R"j({"error":"echo server: unknown endpoint"})j";
    }
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || !res->keep_alive()) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->Read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

void Accept(tcp::acceptor& acceptor, asio::io_context& ioc) {
  acceptor.async_accept(asio::make_strand(ioc), [&acceptor, &ioc](beast::error_code ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(s))->Read();
    }
    if (acceptor.is_open()) Accept(acceptor, ioc);
  });
}

class EchoService final : public inference::GRPCInferenceService::CallbackService {
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* ctx,
                                       const inference::ModelInferRequest* in,
                                       inference::ModelInferResponse* out) override {
    auto* reactor = ctx->DefaultReactor();
    if (in->inputs_size() == 0 || in->raw_input_contents_size() == 0) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "raw_input_contents expected"));
      return reactor;
    }
    out->set_model_name(kModel);
    out->set_model_version("1");
    out->set_id(in->id());
    auto* o = out->add_outputs();
    o->set_name("output");
    o->set_datatype(in->inputs(0).datatype());
    *o->mutable_shape() = in->inputs(0).shape();
    out->add_raw_output_contents(in->raw_input_contents(0));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* ctx,
                                          const inference::ModelMetadataRequest*,
                                          inference::ModelMetadataResponse* out) override {
    const json m = Metadata();
    out->set_name(kModel);
    out->add_versions("1");
    out->set_platform("null");
    for (const char* key : {"inputs", "outputs"}) {
      auto* t = std::string(key) == "inputs" ? out->add_inputs() : out->add_outputs();
      t->set_name(m[key][0]["name"].get<std::string>());
      t->set_datatype("FP32");
      for (int64_t d : m[key][0]["shape"]) t->add_shape(d);
    }
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* ModelStatistics(grpc::CallbackServerContext* ctx,
                                            const inference::ModelStatisticsRequest*,
                                            inference::ModelStatisticsResponse*) override {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

int Usage(const char* why) {
  std::fprintf(stderr,
               "optic_echo_server: %s\nusage: optic_echo_server [--http-port P] [--grpc-port P] "
               "[--threads N] [--shape 3x224x224]\n",
               why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int http_port = 0, grpc_port = 0, threads = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage(("missing value after " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--http-port") http_port = std::atoi(v.c_str());
    else if (a == "--grpc-port") grpc_port = std::atoi(v.c_str());
    else if (a == "--threads") threads = std::max(1, std::atoi(v.c_str()));
    else if (a == "--shape") {
      g_row_shape.clear();
      std::stringstream ss(v);
      std::string part;
      while (std::getline(ss, part, 'x')) {
        const long d = std::atol(part.c_str());
        if (d <= 0) return Usage(("--shape '" + v + "' is not like 3x224x224").c_str());
        g_row_shape.push_back(d);
      }
    } else {
      return Usage(("unknown flag " + a).c_str());
    }
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  asio::io_context ioc(threads);
  tcp::acceptor acceptor(ioc);
  beast::error_code ec;
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(http_port));
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Usage(("cannot listen on HTTP port " + std::to_string(http_port) + ": " + ec.message()).c_str());
  Accept(acceptor, ioc);
  std::vector<std::thread> io;
  for (int i = 0; i < threads; ++i) io.emplace_back([&ioc] { ioc.run(); });

  EchoService service;
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(grpc_port), grpc::InsecureServerCredentials(), &bound);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound == 0) return Usage(("cannot listen on gRPC port " + std::to_string(grpc_port)).c_str());
  std::printf("listening on http://127.0.0.1:%d, grpc 127.0.0.1:%d\n", acceptor.local_endpoint().port(), bound);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  ioc.stop();
  for (auto& t : io) t.join();
  return 0;
}
