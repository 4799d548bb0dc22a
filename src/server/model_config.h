// Reading a Triton-style config.pbtxt (protobuf text format, parsed by protobuf's own TextFormat
// parser against model_config.proto) and mapping its names onto optic's.
// Thread safety: free functions on values; call from any thread.
#pragma once

#include <string>

#include "model_config.pb.h"
#include "optic/backend.h"
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

// Triton's default max_batch_size for a config completed from a model that can batch (its
// --backend-config=default-max-batch-size, 4 unless set).
constexpr int kDefaultMaxBatchSize = 4;

// Triton's names for an optic backend's models: the platform ("onnxruntime" ->
// "onnxruntime_onnx", "torch" -> "pytorch_libtorch", "torch_aoti" -> "torch_aoti"; empty where
// Triton has none) and the backend ("torch", "torch_aoti" -> "pytorch"; others unchanged).
// BackendForConfig maps both back.
std::string TritonPlatformFor(const std::string& backend);
std::string TritonBackendFor(const std::string& backend);

// Batching from the model, as Triton's auto-complete decides it: only when the config sets no
// max_batch_size and does not list both inputs and outputs. A model whose every input and output
// has a variable first dimension gets kDefaultMaxBatchSize and, unless the config has one,
// dynamic_batching with its defaults; any other model gets max_batch_size 0.
void CompleteBatching(const std::vector<TensorInfo>& inputs, const std::vector<TensorInfo>& outputs,
                      inference::ModelConfig* config);

// The defaults Triton fills in before it serves a config (NormalizeModelConfig,
// NormalizeInstanceGroup, AutoCompleteBackendFields): name, backend and platform (Triton's names
// for `backend`, the optic backend that runs the model), version_policy latest 1, max_batch_size
// present, dynamic_batching.preferred_batch_size [max_batch_size] when empty, each instance
// group's name ("<model>" for the group made when none is listed, "<model>_<i>" for an unnamed
// listed one), kind (AUTO -> CPU, where optic runs it), count (1) and gpus ([0] for KIND_GPU),
// and default_model_filename (`model_file`'s name; empty for models without a file).
// Ensembles get only name and version_policy, as in Triton.
void FillConfigDefaults(const std::string& name, const std::string& backend,
                        const std::string& model_file, inference::ModelConfig* config);

// Triton's TYPE_FP32 <-> optic DType; kUnsupported for types optic tensors cannot hold.
Status DTypeFromConfig(inference::DataType type, DType* out);
inference::DataType ConfigFromDType(DType dtype);
// The KServe v2 datatype name of a config type ("FP32", "BYTES" for TYPE_STRING).
std::string KServeDatatype(inference::DataType type);

// The config as Triton serves it at .../config: JSON with the proto's field names.
std::string ModelConfigToJson(const inference::ModelConfig& config);

}  // namespace optic::server
