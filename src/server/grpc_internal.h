// Helpers shared by grpc_server.cc (unary RPCs) and grpc_stream.cc (ModelStreamInfer): the
// translation between gRPC messages and the Router's binary-extension requests and replies.
// Threading: pure functions; any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "grpc_service.grpc.pb.h"
#include "router.h"

namespace optic::server::grpc_detail {

// ModelInferRequest -> a binary-extension body (JSON header + raw bytes); *hlen = header bytes.
grpc::Status BuildBody(const inference::ModelInferRequest& req, std::string* body, size_t* hlen);
// A 200 binary-extension infer reply -> ModelInferResponse with raw_output_contents.
grpc::Status ParseAnswer(const HttpReply& r, inference::ModelInferResponse* out);
// A non-200 reply -> its gRPC status and message.
grpc::Status ErrorFromReply(const HttpReply& r);
std::string InferTarget(const std::string& model, const std::string& version);
std::string Authorization(const grpc::CallbackServerContext* ctx);

// The ModelStreamInfer reactor: each request read is answered (in completion order) with a
// ModelStreamInferResponse; a failing request gets error_message, the stream goes on. Deletes
// itself when gRPC is done with it.
grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
NewStreamReactor(Router* router, grpc::CallbackServerContext* ctx);

}  // namespace optic::server::grpc_detail
