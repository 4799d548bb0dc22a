// The KServe v2 inference request/response codec: JSON tensors and Triton's binary tensor
// extension (a JSON header followed by raw little-endian tensor bytes, its length in the
// Inference-Header-Content-Length header). The wire form becomes the typed InferenceRequest
// (infer_request.h), whose validation checks everything a client sends against the model's
// signature before anything is queued; this is the parser the fuzz target drives.
//
// Ownership: a parsed request's tensors either own their memory (JSON data) or borrow from the
// request body, which the caller keeps alive (InferenceRequest::keep_alive) while they are used.
// Threading: pure functions; any thread.
// Failure: kInvalidArgument (400) with a message naming the tensor and the problem; kNotFound is
// never returned here (the model was resolved before).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infer_request.h"
#include "optic/tensor.h"

namespace optic::server {

// BYTES over JSON: `data` holds strings (their UTF-8 bytes are the elements, as in Triton); with
// the input parameter "content_type": "base64" (MLServer's convention) each string is base64 and
// decoded, so binary payloads such as JPEGs can travel in JSON. Binary extension: each element is a
// 4-byte little-endian length followed by that many bytes, exactly shape's element count.
// `header_length`: the Inference-Header-Content-Length value when present (binary extension);
// then body[0, header_length) is JSON and the rest the tensors' bytes in input order.
// DecodeInferRequest gives the typed request (model and version left to the caller); its `raw`
// views and decode functions point into `body`, which the caller keeps alive while they are used
// (keep_alive is not set). ParseInferRequest is DecodeInferRequest then ValidateInferRequest.
Status DecodeInferRequest(std::string_view body, std::optional<uint64_t> header_length,
                          InferenceRequest* out);
Status ParseInferRequest(std::string_view body, std::optional<uint64_t> header_length,
                         const ModelSignature& signature, const CodecLimits& limits,
                         ParsedInferRequest* out);

struct EncodedResponse {
  std::string body;
  size_t header_length = 0;  // > 0: binary response (application/octet-stream)
  // EncodeInferResponseHeader only: the binary outputs, sent after `body` in this order, from the
  // tensors' own memory (their storage is shared, so holding them keeps the bytes alive).
  std::vector<Tensor> tail;
};

// The whole body in out->body (JSON header, then every binary output copied after it).
Status EncodeInferResponse(const InferenceResponse& response, EncodedResponse* out);
// Same answer without copying outputs: out->body is the JSON header alone and out->tail the
// binary outputs, which the HTTP server writes straight from the tensors (scatter-gather).
Status EncodeInferResponseHeader(const InferenceResponse& response, EncodedResponse* out);
// Same, from a validated request and the model's outputs in signature order.
Status EncodeInferResponse(const std::string& model, const std::string& version,
                           const ParsedInferRequest& request, const ModelSignature& signature,
                           const std::vector<Tensor>& outputs, EncodedResponse* out);

// Parses "Inference-Header-Content-Length" (digits only); kInvalidArgument otherwise.
Status ParseHeaderLength(std::string_view text, uint64_t* out);

}  // namespace optic::server
