#include "grpc_server.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "grpc_internal.h"
#include "grpc_service.grpc.pb.h"

namespace optic::server {
namespace {

using nlohmann::json;

grpc::StatusCode CodeForHttp(int status) {
  switch (status) {
    case 400: return grpc::StatusCode::INVALID_ARGUMENT;
    case 401: return grpc::StatusCode::UNAUTHENTICATED;
    case 404: return grpc::StatusCode::NOT_FOUND;
    case 405: return grpc::StatusCode::UNIMPLEMENTED;
    case 413: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case 501: return grpc::StatusCode::UNIMPLEMENTED;
    case 503: return grpc::StatusCode::UNAVAILABLE;
    default: return grpc::StatusCode::INTERNAL;
  }
}

grpc::Status ErrorFromReply(const HttpReply& r) {
  json j = json::parse(r.body, nullptr, false);
  std::string message = r.body;
  if (j.is_object() && j.contains("error") && j["error"].is_string()) message = j["error"];
  return grpc::Status(CodeForHttp(r.status), message);
}

grpc::Status InvalidArgument(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

std::string ModelTarget(const std::string& name, const std::string& version,
                        const std::string& action) {
  std::string t = "/v2/models/" + name;
  if (!version.empty()) t += "/versions/" + version;
  if (!action.empty()) t += "/" + action;
  return t;
}

std::string Authorization(const grpc::CallbackServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// A synchronous Router call (everything but infer answers on the calling thread).
HttpReply Call(Router* router, const grpc::CallbackServerContext* ctx, const std::string& method,
               const std::string& target, std::string body = {}) {
  HttpRequestView v;
  v.method = method;
  v.target = target;
  v.body = std::make_shared<const std::string>(std::move(body));
  v.authorization = Authorization(ctx);
  HttpReply out;
  out.status = 500;
  out.body = R"({"error":"no reply"})";
  router->Handle(v, [&out](HttpReply r) { out = std::move(r); });
  return out;
}

// The Router's JSON answers use the proto's field names, so protobuf's JSON parser maps them.
grpc::Status FromJson(const std::string& text, google::protobuf::Message* out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto s = google::protobuf::util::JsonStringToMessage(text, out, options);
  if (!s.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "encoding the answer: " + s.ToString());
  return grpc::Status::OK;
}

json ParameterJson(const inference::InferParameter& p) {
  switch (p.parameter_choice_case()) {
    case inference::InferParameter::kBoolParam: return p.bool_param();
    case inference::InferParameter::kInt64Param: return p.int64_param();
    case inference::InferParameter::kStringParam: return p.string_param();
    case inference::InferParameter::kDoubleParam: return p.double_param();
    case inference::InferParameter::kUint64Param: return p.uint64_param();
    default: return nullptr;
  }
}

template <typename Map>
json ParametersJson(const Map& params) {
  json out = json::object();
  for (const auto& [k, v] : params) out[k] = ParameterJson(v);
  return out;
}

template <typename R>
json Array(const R& r) {
  json a = json::array();
  for (const auto& v : r) a.push_back(v);
  return a;
}

// Typed contents (clients that do not use raw_input_contents) as a JSON `data` array.
grpc::Status ContentsJson(const inference::ModelInferRequest::InferInputTensor& in, json* data) {
  const auto& c = in.contents();
  if (c.bool_contents_size()) *data = Array(c.bool_contents());
  else if (c.int_contents_size()) *data = Array(c.int_contents());
  else if (c.int64_contents_size()) *data = Array(c.int64_contents());
  else if (c.uint_contents_size()) *data = Array(c.uint_contents());
  else if (c.uint64_contents_size()) *data = Array(c.uint64_contents());
  else if (c.fp32_contents_size()) *data = Array(c.fp32_contents());
  else if (c.fp64_contents_size()) *data = Array(c.fp64_contents());
  else if (c.bytes_contents_size()) *data = Array(c.bytes_contents());
  else return InvalidArgument("input '" + in.name() + "' has neither contents nor raw_input_contents");
  return grpc::Status::OK;
}

// ModelInferRequest -> a binary-extension body (JSON header + raw bytes in input order).
grpc::Status BuildBody(const inference::ModelInferRequest& req, std::string* body, size_t* hlen) {
  const bool raw = req.raw_input_contents_size() > 0;
  if (raw && req.raw_input_contents_size() != req.inputs_size()) {
    return InvalidArgument("raw_input_contents has " + std::to_string(req.raw_input_contents_size()) +
                           " entries for " + std::to_string(req.inputs_size()) + " inputs");
  }
  json header = {{"inputs", json::array()}, {"outputs", json::array()}};
  if (!req.id().empty()) header["id"] = req.id();
  json params = ParametersJson(req.parameters());
  params["binary_data_output"] = true;
  header["parameters"] = params;
  size_t raw_bytes = 0;
  std::string serialized;  // bytes_contents in the binary extension's BYTES form
  for (int i = 0; i < req.inputs_size(); ++i) {
    const auto& in = req.inputs(i);
    json entry = {{"name", in.name()}, {"datatype", in.datatype()}, {"shape", Array(in.shape())}};
    json p = ParametersJson(in.parameters());
    if (raw) {
      p["binary_data_size"] = req.raw_input_contents(i).size();
      raw_bytes += req.raw_input_contents(i).size();
    } else if (in.contents().bytes_contents_size() > 0) {
      // Byte strings (JPEGs) need not be UTF-8, so they cannot become JSON strings.
      const size_t before = serialized.size();
      for (const auto& e : in.contents().bytes_contents()) {
        const auto n = static_cast<uint32_t>(e.size());
        const char len[4] = {static_cast<char>(n & 0xFF), static_cast<char>((n >> 8) & 0xFF),
                             static_cast<char>((n >> 16) & 0xFF), static_cast<char>(n >> 24)};
        serialized.append(len, 4);
        serialized.append(e);
      }
      p["binary_data_size"] = serialized.size() - before;
    } else {
      grpc::Status s = ContentsJson(in, &entry["data"]);
      if (!s.ok()) return s;
    }
    entry["parameters"] = p;
    header["inputs"].push_back(entry);
  }
  for (const auto& out : req.outputs()) {
    json p = ParametersJson(out.parameters());
    p["binary_data"] = true;
    header["outputs"].push_back({{"name", out.name()}, {"parameters", p}});
  }
  if (req.outputs_size() == 0) header.erase("outputs");
  std::string text = header.dump();
  *hlen = text.size();
  body->reserve(text.size() + raw_bytes + serialized.size());
  *body = std::move(text);
  for (const auto& r : req.raw_input_contents()) body->append(r);
  body->append(serialized);
  return grpc::Status::OK;
}

// A binary-extension infer answer -> ModelInferResponse with raw_output_contents.
grpc::Status ParseAnswer(const HttpReply& r, inference::ModelInferResponse* out) {
  const size_t hlen = r.header_length > 0 ? r.header_length : r.body.size();
  json j = json::parse(r.body.substr(0, hlen), nullptr, false);
  if (!j.is_object()) return grpc::Status(grpc::StatusCode::INTERNAL, "unreadable infer answer");
  out->set_model_name(j.value("model_name", ""));
  out->set_model_version(j.value("model_version", ""));
  out->set_id(j.value("id", ""));
  size_t offset = hlen;
  for (const auto& o : j.value("outputs", json::array())) {
    auto* t = out->add_outputs();
    t->set_name(o.value("name", ""));
    t->set_datatype(o.value("datatype", ""));
    for (const auto& d : o.value("shape", json::array())) t->add_shape(d.get<int64_t>());
    const auto params = o.value("parameters", json::object());
    if (!params.contains("binary_data_size")) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "output '" + t->name() + "' came back as JSON");
    }
    const size_t n = params["binary_data_size"].get<size_t>();
    if (offset + n > r.body.size()) return grpc::Status(grpc::StatusCode::INTERNAL, "short infer answer");
    out->add_raw_output_contents(r.body.substr(offset, n));
    offset += n;
  }
  return grpc::Status::OK;
}

}  // namespace

namespace grpc_detail {
grpc::Status BuildBody(const inference::ModelInferRequest& req, std::string* body, size_t* hlen) {
  return server::BuildBody(req, body, hlen);
}
grpc::Status ParseAnswer(const HttpReply& r, inference::ModelInferResponse* out) {
  return server::ParseAnswer(r, out);
}
grpc::Status ErrorFromReply(const HttpReply& r) { return server::ErrorFromReply(r); }
std::string InferTarget(const std::string& model, const std::string& version) {
  return ModelTarget(model, version, "infer");
}
std::string Authorization(const grpc::CallbackServerContext* ctx) { return server::Authorization(ctx); }
}  // namespace grpc_detail

namespace {

class Service final : public inference::GRPCInferenceService::CallbackService {
 public:
  explicit Service(Router* router) : router_(router) {}

  template <typename Fn>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, Fn fn) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(fn());
    return reactor;
  }

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* ctx, const inference::ServerLiveRequest*,
                                       inference::ServerLiveResponse* out) override {
    return Unary(ctx, [&] {
      out->set_live(Call(router_, ctx, "GET", "/v2/health/live").status == 200);
      return grpc::Status::OK;
    });
  }
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* ctx, const inference::ServerReadyRequest*,
                                        inference::ServerReadyResponse* out) override {
    return Unary(ctx, [&] {
      out->set_ready(Call(router_, ctx, "GET", "/v2/health/ready").status == 200);
      return grpc::Status::OK;
    });
  }
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* ctx, const inference::ModelReadyRequest* in,
                                       inference::ModelReadyResponse* out) override {
    return Unary(ctx, [&] {
      HttpReply r = Call(router_, ctx, "GET", ModelTarget(in->name(), in->version(), "ready"));
      if (r.status == 401) return ErrorFromReply(r);
      out->set_ready(r.status == 200);
      return grpc::Status::OK;
    });
  }
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* ctx, const inference::ServerMetadataRequest*,
                                           inference::ServerMetadataResponse* out) override {
    return Unary(ctx, [&] { return Json(Call(router_, ctx, "GET", "/v2"), out); });
  }
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* ctx, const inference::ModelMetadataRequest* in,
                                          inference::ModelMetadataResponse* out) override {
    return Unary(ctx, [&] { return Json(Call(router_, ctx, "GET", ModelTarget(in->name(), in->version(), "")), out); });
  }
  grpc::ServerUnaryReactor* ModelConfig(grpc::CallbackServerContext* ctx, const inference::ModelConfigRequest* in,
                                        inference::ModelConfigResponse* out) override {
    return Unary(ctx, [&] {
      return Json(Call(router_, ctx, "GET", ModelTarget(in->name(), in->version(), "config")), out->mutable_config());
    });
  }
  grpc::ServerUnaryReactor* ModelStatistics(grpc::CallbackServerContext* ctx,
                                            const inference::ModelStatisticsRequest* in,
                                            inference::ModelStatisticsResponse* out) override {
    return Unary(ctx, [&] {
      const std::string target = in->name().empty() ? "/v2/models/stats"
                                                    : ModelTarget(in->name(), in->version(), "stats");
      return Json(Call(router_, ctx, "GET", target), out);
    });
  }
  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* ctx,
                                            const inference::RepositoryIndexRequest* in,
                                            inference::RepositoryIndexResponse* out) override {
    return Unary(ctx, [&] {
      HttpReply r = Call(router_, ctx, "POST", "/v2/repository/index", json{{"ready", in->ready()}}.dump());
      if (r.status != 200) return ErrorFromReply(r);
      return FromJson(json{{"models", json::parse(r.body)}}.dump(), out);
    });
  }
  grpc::ServerUnaryReactor* RepositoryModelLoad(grpc::CallbackServerContext* ctx,
                                                const inference::RepositoryModelLoadRequest* in,
                                                inference::RepositoryModelLoadResponse*) override {
    return Unary(ctx, [&] { return Control(ctx, in->model_name(), "load"); });
  }
  grpc::ServerUnaryReactor* RepositoryModelUnload(grpc::CallbackServerContext* ctx,
                                                  const inference::RepositoryModelUnloadRequest* in,
                                                  inference::RepositoryModelUnloadResponse*) override {
    return Unary(ctx, [&] { return Control(ctx, in->model_name(), "unload"); });
  }

  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* ctx, const inference::ModelInferRequest* in,
                                       inference::ModelInferResponse* out) override {
    auto* reactor = ctx->DefaultReactor();
    auto body = std::make_shared<std::string>();
    size_t hlen = 0;
    grpc::Status s = BuildBody(*in, body.get(), &hlen);
    if (!s.ok()) {
      reactor->Finish(s);
      return reactor;
    }
    HttpRequestView v;
    v.method = "POST";
    v.target = ModelTarget(in->model_name(), in->model_version(), "infer");
    v.body = std::move(body);
    v.header_length = std::to_string(hlen);
    v.authorization = Authorization(ctx);
    // Answered exactly once, here or on the HTTP pool after the batch; `out` lives until Finish.
    router_->Handle(v, [reactor, out](HttpReply r) {
      reactor->Finish(r.status == 200 ? ParseAnswer(r, out) : ErrorFromReply(r));
    });
    return reactor;
  }

  grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
  ModelStreamInfer(grpc::CallbackServerContext* ctx) override {
    return grpc_detail::NewStreamReactor(router_, ctx);
  }

 private:
  grpc::Status Json(const HttpReply& r, google::protobuf::Message* out) {
    if (r.status != 200) return ErrorFromReply(r);
    return FromJson(r.body, out);
  }
  grpc::Status Control(grpc::CallbackServerContext* ctx, const std::string& model, const char* action) {
    if (model.empty() || model.find('/') != std::string::npos) {
      return InvalidArgument("model_name '" + model + "' is not a model folder name");
    }
    HttpReply r = Call(router_, ctx, "POST", "/v2/repository/models/" + model + "/" + action);
    return r.status == 200 ? grpc::Status::OK : ErrorFromReply(r);
  }
  Router* router_;
};

}  // namespace

class GrpcServer::Impl {
 public:
  explicit Impl(Router* router) : service(router) {}
  Service service;
  std::unique_ptr<grpc::Server> server;
};

GrpcServer::GrpcServer(GrpcOptions options, Router* router)
    : options_(std::move(options)), router_(router) {}

GrpcServer::~GrpcServer() { Stop(0); }

Status GrpcServer::Start() {
  impl_ = std::make_unique<Impl>(router_);
  grpc::ServerBuilder builder;
  const std::string address = options_.host + ":" + std::to_string(options_.port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port_);
  const int limit = static_cast<int>(std::min<uint64_t>(options_.max_message_bytes, INT32_MAX));
  builder.SetMaxReceiveMessageSize(limit);
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(&impl_->service);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || port_ == 0) {
    impl_.reset();
    return Status::Unavailable("gRPC: cannot listen on " + address);
  }
  return Status::OK();
}

void GrpcServer::Stop(int grace_ms) {
  if (!impl_ || !impl_->server) return;
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms));
  impl_->server->Wait();
  impl_.reset();
}

}  // namespace optic::server
