// The KServe v2 inference request/response codec: JSON tensors and Triton's binary tensor
// extension (a JSON header followed by raw little-endian tensor bytes, its length in the
// Inference-Header-Content-Length header). Everything a client sends is checked against the
// model's signature here, before anything is queued; this is the parser the fuzz target drives.
//
// Ownership: a parsed request's tensors either own their memory (JSON data) or borrow from the
// request body, which the caller keeps alive (InferRequest::keep_alive) while they are used.
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

#include "optic/tensor.h"

namespace optic::server {

struct IOSpec {
  std::string name;
  DType dtype = DType::kFP32;  // meaningless when `bytes`
  Shape dims;  // without the batch dimension when max_batch_size > 0; -1 is variable
  bool bytes = false;  // KServe BYTES (Triton TYPE_STRING): variable-length byte strings
};
// "BYTES" or the dtype's KServe name.
std::string SpecDatatype(const IOSpec& spec);

// A BYTES tensor: its shape and one byte string per element (row-major). The elements borrow
// from the request body (binary extension, gRPC) or from `owned` (JSON strings, base64-decoded),
// which a copy of this struct keeps alive.
struct BytesInput {
  Shape shape;
  std::vector<std::string_view> elements;
  std::shared_ptr<const std::vector<std::string>> owned;
};

struct ModelSignature {
  std::vector<IOSpec> inputs, outputs;
  int max_batch_size = 0;
};

struct CodecLimits {
  int64_t max_elements = int64_t{1} << 27;  // per tensor
};

struct RequestedOutput {
  std::string name;
  bool binary = false;
};

struct ParsedInferRequest {
  std::string id;
  std::vector<Tensor> inputs;  // in the signature's input order (empty Tensor for BYTES inputs)
  std::vector<BytesInput> bytes;  // parallel to `inputs`; filled for BYTES inputs only
  int64_t rows = 1;
  int64_t priority = 0;
  uint64_t timeout_us = 0;
  bool binary_output_default = false;
  std::vector<RequestedOutput> outputs;  // empty: all outputs, JSON unless binary_output_default
};

// BYTES over JSON: `data` holds strings (their UTF-8 bytes are the elements, as in Triton); with
// the input parameter "content_type": "base64" (MLServer's convention) each string is base64 and
// decoded, so binary payloads such as JPEGs can travel in JSON. Binary extension: each element is a
// 4-byte little-endian length followed by that many bytes, exactly shape's element count.
// `header_length`: the Inference-Header-Content-Length value when present (binary extension);
// then body[0, header_length) is JSON and the rest the tensors' bytes in input order.
Status ParseInferRequest(std::string_view body, std::optional<uint64_t> header_length,
                         const ModelSignature& signature, const CodecLimits& limits,
                         ParsedInferRequest* out);

struct EncodedResponse {
  std::string body;
  size_t header_length = 0;  // > 0: binary response (application/octet-stream)
};

// `outputs` are the model's outputs in signature order for this request.
Status EncodeInferResponse(const std::string& model, const std::string& version,
                           const ParsedInferRequest& request, const ModelSignature& signature,
                           const std::vector<Tensor>& outputs, EncodedResponse* out);

// Parses "Inference-Header-Content-Length" (digits only); kInvalidArgument otherwise.
Status ParseHeaderLength(std::string_view text, uint64_t* out);

}  // namespace optic::server
