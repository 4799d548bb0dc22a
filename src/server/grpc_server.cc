#include "grpc_server.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "grpc_codec.h"
#include "grpc_internal.h"
#include "grpc_service.grpc.pb.h"

namespace optic::server {

namespace grpc_detail {

std::string Authorization(const grpc::CallbackServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

grpc::Status Unauthenticated() {
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, InferenceService::UnauthorizedMessage());
}

}  // namespace grpc_detail

namespace {

using grpc_detail::Authorization;
using grpc_detail::Unauthenticated;

void FillTensorMetadata(const std::vector<TensorMetadataEntry>& entries,
                        google::protobuf::RepeatedPtrField<inference::ModelMetadataResponse::TensorMetadata>* out) {
  for (const auto& e : entries) {
    auto* t = out->Add();
    t->set_name(e.name);
    t->set_datatype(e.datatype);
    for (int64_t d : e.shape) t->add_shape(d);
  }
}

class Service final : public inference::GRPCInferenceService::CallbackService {
 public:
  Service(InferenceService* service, const grpc_detail::PostFn* post)
      : service_(service), post_(post) {}

  // Runs `fn` unless the caller lacks the bearer token.
  template <typename Fn>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, Fn fn, bool open = false) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(open || service_->Authorized(Authorization(ctx)) ? fn() : Unauthenticated());
    return reactor;
  }

  // Health answers need no token, as over HTTP (probes carry none).
  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* ctx, const inference::ServerLiveRequest*,
                                       inference::ServerLiveResponse* out) override {
    return Unary(ctx, [&] {
      out->set_live(true);
      return grpc::Status::OK;
    }, /*open=*/true);
  }
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* ctx, const inference::ServerReadyRequest*,
                                        inference::ServerReadyResponse* out) override {
    return Unary(ctx, [&] {
      out->set_ready(service_->ready());
      return grpc::Status::OK;
    }, /*open=*/true);
  }
  // An unknown model or a server shutting down is `ready: false`, not an error (as Triton).
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* ctx, const inference::ModelReadyRequest* in,
                                       inference::ModelReadyResponse* out) override {
    return Unary(ctx, [&] {
      out->set_ready(service_->ModelReady(in->name(), in->version()).ok());
      return grpc::Status::OK;
    });
  }
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* ctx, const inference::ServerMetadataRequest*,
                                           inference::ServerMetadataResponse* out) override {
    return Unary(ctx, [&] {
      const ServerMetadataInfo info = InferenceService::ServerMetadata();
      out->set_name(info.name);
      out->set_version(info.version);
      for (const auto& e : info.extensions) out->add_extensions(e);
      return grpc::Status::OK;
    });
  }
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* ctx, const inference::ModelMetadataRequest* in,
                                          inference::ModelMetadataResponse* out) override {
    return Unary(ctx, [&] {
      ModelMetadataInfo info;
      Status s = service_->ModelMetadata(in->name(), in->version(), &info);
      if (!s.ok()) return ToGrpcStatus(s);
      out->set_name(info.name);
      for (const auto& v : info.versions) out->add_versions(v);
      out->set_platform(info.platform);
      FillTensorMetadata(info.inputs, out->mutable_inputs());
      FillTensorMetadata(info.outputs, out->mutable_outputs());
      return grpc::Status::OK;
    });
  }
  grpc::ServerUnaryReactor* ModelConfig(grpc::CallbackServerContext* ctx, const inference::ModelConfigRequest* in,
                                        inference::ModelConfigResponse* out) override {
    return Unary(ctx, [&] {
      std::shared_ptr<ServedModel> m;
      Status s = service_->Find(in->name(), in->version(), &m);
      if (!s.ok()) return ToGrpcStatus(s);
      *out->mutable_config() = m->config;  // the served (completed) config, the message itself
      return grpc::Status::OK;
    });
  }
  grpc::ServerUnaryReactor* ModelStatistics(grpc::CallbackServerContext* ctx,
                                            const inference::ModelStatisticsRequest* in,
                                            inference::ModelStatisticsResponse* out) override {
    return Unary(ctx, [&] {
      // The statistics have one definition, Triton's JSON (model_stats.h), whose names are the
      // proto's, so protobuf's JSON parser maps it onto the message.
      nlohmann::json all = nlohmann::json::array();
      if (in->name().empty()) {
        for (const auto& m : service_->Loaded()) {
          all.push_back(m->stats->ToJson(m->name, std::to_string(m->version)));
        }
      } else {
        std::shared_ptr<ServedModel> m;
        Status s = service_->Find(in->name(), in->version(), &m);
        if (!s.ok()) return ToGrpcStatus(s);
        all.push_back(m->stats->ToJson(m->name, std::to_string(m->version)));
      }
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = true;
      auto st = google::protobuf::util::JsonStringToMessage(
          nlohmann::json{{"model_stats", all}}.dump(), out, options);
      if (!st.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "encoding the statistics: " + st.ToString());
      return grpc::Status::OK;
    });
  }
  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* ctx,
                                            const inference::RepositoryIndexRequest* in,
                                            inference::RepositoryIndexResponse* out) override {
    return Unary(ctx, [&] {
      for (const auto& e : service_->Index(in->ready())) {
        auto* m = out->add_models();
        m->set_name(e.name);
        m->set_version(e.version);
        m->set_state(e.state);
        m->set_reason(e.reason);
      }
      return grpc::Status::OK;
    });
  }
  grpc::ServerUnaryReactor* RepositoryModelLoad(grpc::CallbackServerContext* ctx,
                                                const inference::RepositoryModelLoadRequest* in,
                                                inference::RepositoryModelLoadResponse*) override {
    return Unary(ctx, [&] { return Control(in->model_name(), /*load=*/true); });
  }
  grpc::ServerUnaryReactor* RepositoryModelUnload(grpc::CallbackServerContext* ctx,
                                                  const inference::RepositoryModelUnloadRequest* in,
                                                  inference::RepositoryModelUnloadResponse*) override {
    return Unary(ctx, [&] { return Control(in->model_name(), /*load=*/false); });
  }

  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* ctx, const inference::ModelInferRequest* in,
                                       inference::ModelInferResponse* out) override {
    auto* reactor = ctx->DefaultReactor();
    if (!service_->Authorized(Authorization(ctx))) {
      reactor->Finish(Unauthenticated());
      return reactor;
    }
    InferenceRequest typed;
    // gRPC keeps `in` (which the typed inputs borrow) and `out` until Finish, and Finish comes
    // only after the answer was encoded.
    grpc::Status s = DecodeInferRequest(*in, nullptr, &typed);
    if (!s.ok()) {
      reactor->Finish(s);
      return reactor;
    }
    // Answered exactly once: here when refused before queueing, else on the batcher's thread.
    service_->Infer(std::move(typed), [this, reactor, out](InferenceResponse response) {
      auto r = std::make_shared<InferenceResponse>(std::move(response));
      (*post_)([reactor, out, r] {
        if (r->status.ok()) EncodeInferResponse(*r, out);
        r->finish(r->status);
        reactor->Finish(ToGrpcStatus(r->status));
      });
    });
    return reactor;
  }

  grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
  ModelStreamInfer(grpc::CallbackServerContext* ctx) override {
    return grpc_detail::NewStreamReactor(service_, post_, ctx);
  }

 private:
  grpc::Status Control(const std::string& model, bool load) {
    if (model.empty() || model.find('/') != std::string::npos) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "model_name '" + model + "' is not a model folder name");
    }
    return ToGrpcStatus(load ? service_->LoadModel(model) : service_->UnloadModel(model));
  }
  InferenceService* service_;
  const grpc_detail::PostFn* post_;
};

}  // namespace

class GrpcServer::Impl {
 public:
  // Completion threads: encoding an answer copies its outputs into the message (and gRPC
  // serializes it in Finish), so it runs here, for several answers at once, while the instance
  // runs the next batch.
  explicit Impl(InferenceService* service)
      : completions(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 4)),
        post([this](std::function<void()> fn) { boost::asio::post(completions, std::move(fn)); }),
        service(service, &post) {}
  boost::asio::thread_pool completions;
  grpc_detail::PostFn post;
  Service service;
  std::unique_ptr<grpc::Server> server;
};

GrpcServer::GrpcServer(GrpcOptions options, InferenceService* service)
    : options_(std::move(options)), service_(service) {}

GrpcServer::~GrpcServer() { Stop(0); }

Status GrpcServer::Start() {
  impl_ = std::make_unique<Impl>(service_);
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
  impl_->completions.join();  // every posted answer has finished its call by now
  impl_.reset();
}

}  // namespace optic::server
