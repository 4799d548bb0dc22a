// The gRPC codec: inference.ModelInferRequest -> the typed InferenceRequest (infer_request.h)
// and the typed answer -> ModelInferResponse, with no JSON in between. raw_input_contents are
// borrowed (the typed inputs point into the message); typed `contents` are converted once, into
// the model's type, when validation reaches them; raw_output_contents are written once from the
// output tensors. Validation (names, datatypes, shapes, batch, limits, byte sizes) is the
// service's, the same as over HTTP.
//
// Ownership: the decoded request borrows `message`, which `keep_alive` (the caller's) must keep
// alive until the answer is handed over.
// Threading: pure functions; any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "grpc_service.pb.h"
#include "infer_request.h"

namespace optic::server {

// The one mapping of optic's Status onto gRPC codes: kInvalidArgument and kCancelled ->
// INVALID_ARGUMENT, kNotFound -> NOT_FOUND, kUnavailable -> UNAVAILABLE, kUnsupported(Hardware)
// -> UNIMPLEMENTED, everything else INTERNAL; the message is kept.
grpc::Status ToGrpcStatus(const Status& status);

// Failure: INVALID_ARGUMENT for what only gRPC can get wrong (raw_input_contents not one per
// input, a parameter of the wrong type); everything else is left to validation.
grpc::Status DecodeInferRequest(const inference::ModelInferRequest& message,
                                std::shared_ptr<const void> keep_alive, InferenceRequest* out);

// `response.status` must be OK. Every output goes into raw_output_contents.
void EncodeInferResponse(const InferenceResponse& response, inference::ModelInferResponse* out);

}  // namespace optic::server
