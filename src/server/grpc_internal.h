// Helpers shared by grpc_server.cc (unary RPCs) and grpc_stream.cc (ModelStreamInfer).
// Threading: pure functions; any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "grpc_service.grpc.pb.h"
#include "inference_service.h"

namespace optic::server::grpc_detail {

// Runs `fn` on the front end's completion threads: answers are encoded and finished there, not
// on the batcher's worker thread, which goes on to its next batch.
using PostFn = std::function<void(std::function<void()>)>;

std::string Authorization(const grpc::CallbackServerContext* ctx);
grpc::Status Unauthenticated();

// The ModelStreamInfer reactor: each request read is answered (in completion order) with a
// ModelStreamInferResponse; a failing request gets error_message, the stream goes on. Deletes
// itself when gRPC is done with it.
grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
NewStreamReactor(InferenceService* service, const PostFn* post, grpc::CallbackServerContext* ctx);

}  // namespace optic::server::grpc_detail
