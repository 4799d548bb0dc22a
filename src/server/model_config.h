// Reading a Triton-style config.pbtxt (protobuf text format, parsed by protobuf's own TextFormat
// parser against model_config.proto) and mapping its names onto optic's.
// Thread safety: free functions on values; call from any thread.
#pragma once

#include <string>

#include "model_config.pb.h"
#include "optic/status.h"
#include "optic/tensor.h"

namespace optic::server {

// Parses `text` (from `origin`, used in messages). kInvalidArgument names the line, column and
// problem, e.g. "config.pbtxt:4:3: Message type \"inference.ModelConfig\" has no field named ...".
Status ParseModelConfig(const std::string& text, const std::string& origin,
                        inference::ModelConfig* out);
Status ReadModelConfigFile(const std::string& path, inference::ModelConfig* out);

// The optic backend a config names: `backend` ("onnxruntime", "openvino", "pytorch", "null",
// or any optic backend name) or else `platform` ("onnxruntime_onnx", "pytorch_libtorch",
// "openvino"). kInvalidArgument when neither is set or the platform is unknown.
Status BackendForConfig(const inference::ModelConfig& config, std::string* backend);

// Triton's TYPE_FP32 <-> optic DType; kUnsupported for types optic tensors cannot hold.
Status DTypeFromConfig(inference::DataType type, DType* out);
inference::DataType ConfigFromDType(DType dtype);
// The KServe v2 datatype name of a config type ("FP32", "BYTES" for TYPE_STRING).
std::string KServeDatatype(inference::DataType type);

// The config as Triton serves it at .../config: JSON with the proto's field names.
std::string ModelConfigToJson(const inference::ModelConfig& config);

}  // namespace optic::server
