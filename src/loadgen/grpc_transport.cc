// KServe v2 over gRPC (inference.GRPCInferenceService, src/server/grpc_service.proto): metadata
// and statistics through their RPCs, the request as one ModelInferRequest with every tensor in
// raw_input_contents, as tritonclient sends it. Each Connection has its own channel with a local
// subchannel pool, i.e. its own HTTP/2 connection, as each HTTP client has its own keep-alive
// connection.
#include <grpcpp/grpcpp.h>

#include <chrono>

#include "grpc_service.grpc.pb.h"
#include "loadgen/transport.h"

namespace optic::loadgen {
namespace {

const char* CodeName(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    default: return "gRPC error";
  }
}

// The server's answer to `what` as a Status: its code named, its message kept; a server that
// cannot be reached is named by its address with what to check.
Status FromGrpc(const grpc::Status& s, const std::string& url, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return Status::Unavailable(what + ": no KServe gRPC server answers at " + url + " (" + s.error_message() +
                               ", gRPC " + CodeName(s.error_code()) +
                               "); is a server listening there with gRPC (optic serve --grpc-port)?");
  }
  const std::string msg = what + ": " + s.error_message() + " (gRPC " + CodeName(s.error_code()) + ")";
  switch (s.error_code()) {
    case grpc::StatusCode::NOT_FOUND: return Status::NotFound(msg);
    case grpc::StatusCode::INVALID_ARGUMENT: return Status::InvalidArgument(msg);
    case grpc::StatusCode::UNIMPLEMENTED: return Status::Unsupported(msg);
    default: return Status::Unavailable(msg);
  }
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& url) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(url, grpc::InsecureChannelCredentials(), args);
}

// One unary call of `stub`: a deadline (it waits for neither a connection nor a slow server for
// ever), the token, and the answer as a Status (FromGrpc).
template <class Request, class Response>
Status Call(inference::GRPCInferenceService::Stub* stub,
            grpc::Status (inference::GRPCInferenceService::Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
            const LoadSettings& s, int deadline_s, const std::string& what, const Request& req, Response* resp) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_s));
  if (!s.auth_token.empty()) ctx.AddMetadata("authorization", "Bearer " + s.auth_token);
  return FromGrpc((stub->*rpc)(&ctx, req, resp), s.url, what);
}

class GrpcConnection : public Connection {
 public:
  GrpcConnection(const LoadSettings* s, const inference::ModelInferRequest* req)
      : s_(s), req_(req), stub_(inference::GRPCInferenceService::NewStub(NewChannel(s->url))) {}
  Status Infer() override {
    return Call(stub_.get(), &inference::GRPCInferenceService::Stub::ModelInfer, *s_, 60, "ModelInfer", *req_, &resp_);
  }

 private:
  const LoadSettings* s_;
  const inference::ModelInferRequest* req_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  inference::ModelInferResponse resp_;
};

class GrpcTransport : public Transport {
 public:
  explicit GrpcTransport(const LoadSettings& s)
      : s_(s), stub_(inference::GRPCInferenceService::NewStub(NewChannel(s.url))) {}

  Status Metadata(ModelMeta* out) override {
    inference::ModelMetadataRequest req;
    req.set_name(s_.model);
    req.set_version(s_.version);
    inference::ModelMetadataResponse meta;
    OPTIC_RETURN_IF_ERROR(Call(stub_.get(), &inference::GRPCInferenceService::Stub::ModelMetadata, s_, 30,
                               "grpc://" + s_.url + " ModelMetadata '" + s_.model + "'", req, &meta));
    out->name = meta.name();
    out->platform = meta.platform();
    auto copy = [](const auto& list, std::vector<TensorMeta>* to) {
      for (const auto& t : list) to->push_back({t.name(), t.datatype(), {t.shape().begin(), t.shape().end()}});
    };
    copy(meta.inputs(), &out->inputs);
    copy(meta.outputs(), &out->outputs);
    return Status::OK();
  }

  Status Prepare(const std::vector<RequestInput>& inputs, const ModelMeta& meta) override {
    req_.set_model_name(s_.model);
    req_.set_model_version(s_.version);
    for (const RequestInput& in : inputs) {
      auto* t = req_.add_inputs();
      t->set_name(in.tensor.name);
      t->set_datatype(in.tensor.datatype);
      for (int64_t d : in.tensor.shape) t->add_shape(d);
      req_.add_raw_input_contents(in.raw);
    }
    for (const TensorMeta& o : meta.outputs) req_.add_outputs()->set_name(o.name);
    return Status::OK();
  }

  std::unique_ptr<Connection> NewConnection() const override {
    return std::make_unique<GrpcConnection>(&s_, &req_);
  }

  Status Stats(StatsSnapshot* out) const override {
    *out = StatsSnapshot{};
    inference::ModelStatisticsRequest req;
    req.set_name(s_.model);
    req.set_version(s_.version);
    inference::ModelStatisticsResponse resp;
    OPTIC_RETURN_IF_ERROR(Call(stub_.get(), &inference::GRPCInferenceService::Stub::ModelStatistics, s_, 30,
                               "grpc://" + s_.url + " ModelStatistics", req, &resp));
    if (resp.model_stats_size() == 0) return Status::OK();
    const inference::InferStatistics& st = resp.model_stats(0).inference_stats();
    out->success_count = static_cast<double>(st.success().count());
    out->success_ns = static_cast<double>(st.success().ns());
    out->queue_ns = static_cast<double>(st.queue().ns());
    out->compute_input_ns = static_cast<double>(st.compute_input().ns());
    out->compute_infer_ns = static_cast<double>(st.compute_infer().ns());
    out->compute_output_ns = static_cast<double>(st.compute_output().ns());
    out->valid = true;
    return Status::OK();
  }

 private:
  LoadSettings s_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  inference::ModelInferRequest req_;
};

}  // namespace

Status CreateGrpcTransport(const LoadSettings& settings, std::unique_ptr<Transport>* out) {
  std::string u = settings.url;
  if (u.rfind("grpc://", 0) == 0) u = u.substr(7);
  const size_t colon = u.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == u.size()) {
    return Status::InvalidArgument("server address '" + settings.url + "' is not host:port");
  }
  LoadSettings s = settings;
  s.url = u;
  *out = std::make_unique<GrpcTransport>(s);
  return Status::OK();
}

}  // namespace optic::loadgen
