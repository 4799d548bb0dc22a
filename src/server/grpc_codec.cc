#include "grpc_codec.h"

namespace optic::server {
namespace {

using InputTensor = inference::ModelInferRequest::InferInputTensor;

Status Bad(const std::string& m) { return Status::InvalidArgument(m); }

// A non-negative integer parameter (int64 or uint64 within int64's range).
bool NonNegative(const inference::InferParameter& p, int64_t* out) {
  if (p.parameter_choice_case() == inference::InferParameter::kInt64Param) {
    *out = p.int64_param();
    return *out >= 0;
  }
  if (p.parameter_choice_case() == inference::InferParameter::kUint64Param) {
    *out = static_cast<int64_t>(p.uint64_param());
    return p.uint64_param() <= static_cast<uint64_t>(INT64_MAX);
  }
  return false;
}

template <typename T, typename Src>
Status Fill(const Src& values, int64_t n, const Shape& shape, const std::string& name, T* dst) {
  const int64_t count = values.size();
  if (count > n) return Bad("input '" + name + "': data has more elements than its shape");
  if (count < n) {
    return Bad("input '" + name + "': data has " + std::to_string(count) + " elements, shape " +
               ShapeToString(shape) + " needs " + std::to_string(n));
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(static_cast<double>(values.Get(i)));
  return Status::OK();
}

template <typename Src>
Status FillAny(const Src& values, const std::string& name, Tensor* t) {
  const int64_t n = t->numel();
  switch (t->dtype()) {
    case DType::kFP32: return Fill(values, n, t->shape(), name, t->data<float>());
    case DType::kINT8: return Fill(values, n, t->shape(), name, t->data<int8_t>());
    case DType::kUINT8: return Fill(values, n, t->shape(), name, t->data<uint8_t>());
    case DType::kINT32: return Fill(values, n, t->shape(), name, t->data<int32_t>());
    case DType::kINT64: return Fill(values, n, t->shape(), name, t->data<int64_t>());
    case DType::kFP16:
    case DType::kBF16: break;
  }
  return Bad("input '" + name + "': " + DTypeKServeName(t->dtype()) +
             " data travels only as binary (raw_input_contents)");
}

// Typed `contents` into the model's type: the first non-empty field, as Triton reads them.
Status DecodeContents(const InputTensor& in, const Shape& shape, const IOSpec& spec,
                      Tensor* tensor, BytesInput* bytes) {
  const auto& c = in.contents();
  const std::string& name = spec.name;
  const int64_t n = ShapeNumel(shape);
  if (spec.bytes) {
    if (c.bytes_contents_size() == 0) {
      return n == 0 ? Bad("input '" + name + "': data has more elements than its shape")
                    : Bad("input '" + name + "': BYTES element 0 is not a string");
    }
    const int64_t count = c.bytes_contents_size();
    if (count > n) return Bad("input '" + name + "': data has more elements than its shape");
    if (count < n) {
      return Bad("input '" + name + "': data has " + std::to_string(count) + " elements, shape " +
                 ShapeToString(shape) + " needs " + std::to_string(n));
    }
    for (const auto& e : c.bytes_contents()) bytes->elements.emplace_back(e);  // borrowed
    return Status::OK();
  }
  if (c.bytes_contents_size() > 0) {
    return n == 0 ? Bad("input '" + name + "': data has more elements than its shape")
                  : Bad("input '" + name + "': data element 0 is not a number");
  }
  OPTIC_RETURN_IF_ERROR(Tensor::Empty(spec.dtype, shape, tensor));
  if (c.bool_contents_size()) return FillAny(c.bool_contents(), name, tensor);
  if (c.int_contents_size()) return FillAny(c.int_contents(), name, tensor);
  if (c.int64_contents_size()) return FillAny(c.int64_contents(), name, tensor);
  if (c.uint_contents_size()) return FillAny(c.uint_contents(), name, tensor);
  if (c.uint64_contents_size()) return FillAny(c.uint64_contents(), name, tensor);
  if (c.fp32_contents_size()) return FillAny(c.fp32_contents(), name, tensor);
  if (c.fp64_contents_size()) return FillAny(c.fp64_contents(), name, tensor);
  return Bad("input '" + name + "' has neither contents nor raw_input_contents");
}

grpc::Status InvalidArgument(const Status& s) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, s.message());
}

}  // namespace

grpc::Status ToGrpcStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return grpc::Status::OK;
    case StatusCode::kInvalidArgument:
    case StatusCode::kCancelled: return {grpc::StatusCode::INVALID_ARGUMENT, status.message()};
    case StatusCode::kNotFound: return {grpc::StatusCode::NOT_FOUND, status.message()};
    case StatusCode::kUnavailable: return {grpc::StatusCode::UNAVAILABLE, status.message()};
    case StatusCode::kUnsupported:
    case StatusCode::kUnsupportedHardware:
      return {grpc::StatusCode::UNIMPLEMENTED, status.message()};
    case StatusCode::kOutOfMemory:
    case StatusCode::kInternal: break;
  }
  return {grpc::StatusCode::INTERNAL, status.message()};
}

grpc::Status DecodeInferRequest(const inference::ModelInferRequest& msg,
                                std::shared_ptr<const void> keep_alive, InferenceRequest* out) {
  const bool raw = msg.raw_input_contents_size() > 0;
  if (raw && msg.raw_input_contents_size() != msg.inputs_size()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "raw_input_contents has " + std::to_string(msg.raw_input_contents_size()) +
                            " entries for " + std::to_string(msg.inputs_size()) + " inputs");
  }
  InferenceRequest r;
  r.model = msg.model_name();
  r.version = msg.model_version();
  r.id = msg.id();
  r.binary_output_default = true;  // gRPC answers carry raw_output_contents only
  const auto& params = msg.parameters();
  if (auto it = params.find("priority"); it != params.end()) {
    if (!NonNegative(it->second, &r.priority)) return InvalidArgument(BadPriorityParameter());
  }
  if (auto it = params.find("timeout"); it != params.end()) {
    int64_t t = 0;
    if (!NonNegative(it->second, &t)) return InvalidArgument(BadTimeoutParameter());
    r.timeout_us = static_cast<uint64_t>(t);
  }
  r.inputs.reserve(msg.inputs_size());
  for (int i = 0; i < msg.inputs_size(); ++i) {
    const InputTensor& in = msg.inputs(i);
    InferInput t;
    t.name = in.name();
    t.datatype = in.datatype();
    for (int64_t d : in.shape()) {
      if (d < 0) {
        t.shape_error = Bad("input '" + t.name + "': 'shape' must hold non-negative integers");
        break;
      }
      t.shape.push_back(d);
    }
    if (raw) {
      t.raw = msg.raw_input_contents(i);
      t.binary_size = t.raw.size();
    } else {
      t.decode = [&in, shape = t.shape](const IOSpec& spec, Tensor* tensor, BytesInput* bytes) {
        return DecodeContents(in, shape, spec, tensor, bytes);
      };
    }
    r.inputs.push_back(std::move(t));
  }
  for (const auto& o : msg.outputs()) {
    RequestedOutputIn ro;
    ro.name = o.name();
    ro.binary = true;
    ro.classification = o.parameters().count("classification") > 0;
    r.outputs.push_back(std::move(ro));
  }
  r.keep_alive = std::move(keep_alive);
  *out = std::move(r);
  return grpc::Status::OK;
}

void EncodeInferResponse(const InferenceResponse& response, inference::ModelInferResponse* out) {
  out->set_model_name(response.model_name);
  out->set_model_version(response.model_version);
  out->set_id(response.id);
  for (size_t k = 0; k < response.outputs.size(); ++k) {
    const Tensor& t = response.tensors[k];
    auto* o = out->add_outputs();
    o->set_name(response.outputs[k].name);
    o->set_datatype(DTypeKServeName(t.dtype()));
    for (int64_t d : t.shape()) o->add_shape(d);
    out->add_raw_output_contents(static_cast<const char*>(t.raw()), t.nbytes());
  }
}

}  // namespace optic::server
