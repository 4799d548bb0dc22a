#include "model_config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace optic::server {
namespace {

// Collects the parser's first error with its position instead of printing to stderr.
class Collector final : public google::protobuf::io::ErrorCollector {
 public:
  explicit Collector(std::string origin) : origin_(std::move(origin)) {}
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty()) {
      first_ = origin_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " +
               message;
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string origin_, first_;
};

bool IsInteger(const std::string& s) {
  size_t i = s.size() > 1 && s[0] == '-' ? 1 : 0;
  if (i == s.size() || s.size() > 19) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

void FixInt64(nlohmann::json* j, const std::string& key) {
  if (j->is_object()) {
    for (auto& [k, v] : j->items()) FixInt64(&v, k);
  } else if (j->is_array()) {
    for (auto& v : *j) FixInt64(&v, key);
  } else if (j->is_string() && key != "string_value" && key != "name" && IsInteger(j->get<std::string>())) {
    *j = std::stoll(j->get<std::string>());
  }
}

}  // namespace

Status ParseModelConfig(const std::string& text, const std::string& origin,
                        inference::ModelConfig* out) {
  Collector errors(origin);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  inference::ModelConfig config;
  if (!parser.ParseFromString(text, &config)) {
    return Status::InvalidArgument(errors.first().empty() ? origin + ": cannot parse" : errors.first());
  }
  *out = std::move(config);
  return Status::OK();
}

Status ReadModelConfigFile(const std::string& path, inference::ModelConfig* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("model config '" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseModelConfig(ss.str(), path, out);
}

Status BackendForConfig(const inference::ModelConfig& config, std::string* backend) {
  const std::string& b = config.backend();
  const std::string& p = config.platform();
  if (!b.empty()) {
    *backend = b != "pytorch" ? b : p == "torch_aoti" ? "torch_aoti" : "torch";
    return Status::OK();
  }
  if (p == "onnxruntime_onnx") *backend = "onnxruntime";
  else if (p == "pytorch_libtorch" || p == "libtorch") *backend = "torch";
  else if (p == "torch_aoti") *backend = "torch_aoti";
  else if (p == "openvino") *backend = "openvino";
  else if (p.empty()) return Status::InvalidArgument("config names neither backend nor platform");
  else return Status::InvalidArgument("unknown platform '" + p + "' (use backend: \"<optic backend>\")");
  return Status::OK();
}

std::string TritonPlatformFor(const std::string& backend) {
  if (backend == "onnxruntime") return "onnxruntime_onnx";
  if (backend == "torch") return "pytorch_libtorch";
  if (backend == "torch_aoti") return "torch_aoti";
  return "";
}

std::string TritonBackendFor(const std::string& backend) {
  return backend == "torch" || backend == "torch_aoti" ? "pytorch" : backend;
}

void CompleteBatching(const std::vector<TensorInfo>& inputs, const std::vector<TensorInfo>& outputs,
                      inference::ModelConfig* config) {
  if (config->has_max_batch_size() || (config->input_size() > 0 && config->output_size() > 0)) {
    return;
  }
  bool can_batch = !inputs.empty();
  for (const auto* list : {&inputs, &outputs}) {
    for (const TensorInfo& t : *list) can_batch = can_batch && !t.shape.empty() && t.shape[0] == -1;
  }
  config->set_max_batch_size(can_batch ? kDefaultMaxBatchSize : 0);
  if (can_batch && kDefaultMaxBatchSize > 1 && !config->has_dynamic_batching()) {
    config->mutable_dynamic_batching();
  }
}

void FillConfigDefaults(const std::string& name, const std::string& backend,
                        const std::string& model_file, inference::ModelConfig* config) {
  config->set_name(name);
  if (!config->has_version_policy()) {
    config->mutable_version_policy()->mutable_latest()->set_num_versions(1);
  }
  if (config->platform() == "ensemble") return;
  if (config->backend().empty()) config->set_backend(TritonBackendFor(backend));
  if (config->platform().empty()) config->set_platform(TritonPlatformFor(backend));
  config->set_max_batch_size(config->max_batch_size());
  if (config->has_dynamic_batching() &&
      config->dynamic_batching().preferred_batch_size_size() == 0 && config->max_batch_size() > 0) {
    config->mutable_dynamic_batching()->add_preferred_batch_size(config->max_batch_size());
  }
  if (config->instance_group_size() == 0) config->add_instance_group()->set_name(name);
  for (int i = 0; i < config->instance_group_size(); ++i) {
    auto* g = config->mutable_instance_group(i);
    if (g->name().empty()) g->set_name(name + "_" + std::to_string(i));
    if (g->kind() == inference::ModelInstanceGroup::KIND_AUTO) {
      g->set_kind(inference::ModelInstanceGroup::KIND_CPU);
    }
    if (g->count() < 1) g->set_count(1);
    if (g->kind() == inference::ModelInstanceGroup::KIND_GPU && g->gpus_size() == 0) g->add_gpus(0);
  }
  if (config->default_model_filename().empty() && !model_file.empty()) {
    config->set_default_model_filename(std::filesystem::path(model_file).filename().string());
  }
}

Status DTypeFromConfig(inference::DataType type, DType* out) {
  switch (type) {
    case inference::TYPE_FP32: *out = DType::kFP32; return Status::OK();
    case inference::TYPE_FP16: *out = DType::kFP16; return Status::OK();
    case inference::TYPE_BF16: *out = DType::kBF16; return Status::OK();
    case inference::TYPE_INT8: *out = DType::kINT8; return Status::OK();
    case inference::TYPE_UINT8: *out = DType::kUINT8; return Status::OK();
    case inference::TYPE_INT32: *out = DType::kINT32; return Status::OK();
    case inference::TYPE_INT64: *out = DType::kINT64; return Status::OK();
    default:
      return Status::Unsupported("data type " + inference::DataType_Name(type) +
                                 " is not supported by optic tensors");
  }
}

inference::DataType ConfigFromDType(DType dtype) {
  switch (dtype) {
    case DType::kFP32: return inference::TYPE_FP32;
    case DType::kFP16: return inference::TYPE_FP16;
    case DType::kBF16: return inference::TYPE_BF16;
    case DType::kINT8: return inference::TYPE_INT8;
    case DType::kUINT8: return inference::TYPE_UINT8;
    case DType::kINT32: return inference::TYPE_INT32;
    case DType::kINT64: return inference::TYPE_INT64;
  }
  return inference::TYPE_INVALID;
}

std::string KServeDatatype(inference::DataType type) {
  if (type == inference::TYPE_STRING) return "BYTES";
  std::string name = inference::DataType_Name(type);
  return name.rfind("TYPE_", 0) == 0 ? name.substr(5) : name;
}

std::string ModelConfigToJson(const inference::ModelConfig& config) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(config, &json, options);
  if (!status.ok()) return "{}";
  // Proto3 JSON writes 64-bit integers as strings; Triton turns them back into numbers (clients
  // such as perf_analyzer read dims and delays as numbers).
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) return json;
  FixInt64(&j, "");
  return j.dump();
}

}  // namespace optic::server
