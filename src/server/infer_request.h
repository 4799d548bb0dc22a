// The typed inference request every protocol decodes into, and its validation against the served
// model's signature. The HTTP codec (codec.h: KServe JSON and the binary tensor extension) and
// the gRPC codec (grpc_codec.h: protobuf) each turn their wire form into an InferenceRequest;
// ValidateInferRequest then applies every check (names, datatypes, shapes, batch, element limit,
// byte sizes, BYTES framing, requested outputs) once, so both protocols refuse the same request
// with the same message.
//
// Ownership: an InferenceRequest's binary inputs borrow the transport's bytes (an HTTP body, a
// gRPC message's raw_input_contents), which `keep_alive` owns; validated tensors borrow them too
// (no copy). Typed data (JSON `data`, gRPC typed `contents`) is converted once, by `decode`.
// Threading: pure functions; any thread.
// Failure: kInvalidArgument with a message naming the tensor and the problem; kUnsupported for
// the classification extension.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batching/batcher.h"
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

// A BYTES tensor (batching/batcher.h): its shape and one byte string per element.
using batching::BytesInput;

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

// One input as the client sent it. A codec that finds its wire form malformed stores the
// problem in the error field of the check it belongs to; validation reports it where that
// check runs, so the first problem of a request is the same whichever protocol carried it.
struct InferInput {
  std::string name;
  std::string datatype;
  Shape shape;
  Status datatype_error;  // no datatype given (checked before the datatype is compared)
  Status shape_error;     // no shape, or not one (checked before the shape is compared)
  // Binary data: the size the client declared and the bytes there are for it (fewer when the
  // transport holds fewer), borrowed from the transport.
  std::optional<uint64_t> binary_size;
  std::string_view raw;
  // Typed data, converted into the model's type once the name, datatype and shape passed: fills
  // `tensor` (shape `shape`, dtype `spec.dtype`) or, for a BYTES spec, `bytes` (shape set).
  std::function<Status(const IOSpec& spec, Tensor* tensor, BytesInput* bytes)> decode;
};

struct RequestedOutputIn {
  std::string name;
  bool binary = false;
  bool classification = false;  // the classification extension was asked for
  Status error;                 // a malformed parameter, checked after the name
};

struct InferenceRequest {
  std::string model, version;  // version empty: the highest loaded
  std::string id;
  int64_t priority = 0;
  uint64_t timeout_us = 0;
  bool binary_output_default = false;
  std::vector<InferInput> inputs;
  Status inputs_error;  // where the inputs' list turned malformed, after those above
  std::vector<RequestedOutputIn> outputs;  // empty: every output
  Status outputs_error;  // where the outputs' list turned malformed, after those above
  uint64_t unclaimed_bytes = 0;  // transport bytes no input claimed (an error when > 0)
  std::shared_ptr<const void> keep_alive;  // owns what `raw` and decode's sources point into
};

// The validated request: tensors in the signature's input order, ready for the batcher.
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

// The answer to one request, for the protocol's codec to encode.
struct InferenceResponse {
  Status status;
  std::string model_name, model_version, id;
  // The outputs to send, in the order to send them (the requested ones, else every output of the
  // signature with the request's binary default), with their tensors.
  std::vector<RequestedOutput> outputs;
  std::vector<Tensor> tensors;  // parallel to `outputs`
  // The codec calls this exactly once, after encoding and before sending, with the final status
  // (`status`, or why the answer could not be encoded): it counts the request in the model's
  // statistics and as no longer in flight.
  std::function<void(const Status& final_status)> finish;
};

Status ValidateInferRequest(const InferenceRequest& request, const ModelSignature& signature,
                            const CodecLimits& limits, ParsedInferRequest* out);

// The messages both codecs give for parameters of the wrong type.
Status BadPriorityParameter();
Status BadTimeoutParameter();

}  // namespace optic::server
