#include "codec.h"

#include <cstring>
#include <nlohmann/json.hpp>

namespace optic::server {
namespace {

using nlohmann::json;

Status Bad(const std::string& m) { return Status::InvalidArgument(m); }

template <typename T>
Status FillFromJson(const json& data, T* dst, int64_t n, int64_t* at, const std::string& name) {
  if (data.is_array()) {
    for (const auto& e : data) OPTIC_RETURN_IF_ERROR(FillFromJson(e, dst, n, at, name));
    return Status::OK();
  }
  if (*at >= n) return Bad("input '" + name + "': data has more elements than its shape");
  if (data.is_boolean()) {
    dst[(*at)++] = static_cast<T>(data.get<bool>() ? 1 : 0);
  } else if (data.is_number()) {
    dst[(*at)++] = static_cast<T>(data.get<double>());
  } else {
    return Bad("input '" + name + "': data element " + std::to_string(*at) + " is not a number");
  }
  return Status::OK();
}

Status JsonData(const json& data, Tensor* t, const std::string& name) {
  int64_t at = 0;
  const int64_t n = t->numel();
  Status s;
  switch (t->dtype()) {
    case DType::kFP32: s = FillFromJson(data, t->data<float>(), n, &at, name); break;
    case DType::kINT8: s = FillFromJson(data, t->data<int8_t>(), n, &at, name); break;
    case DType::kUINT8: s = FillFromJson(data, t->data<uint8_t>(), n, &at, name); break;
    case DType::kINT32: s = FillFromJson(data, t->data<int32_t>(), n, &at, name); break;
    case DType::kINT64: s = FillFromJson(data, t->data<int64_t>(), n, &at, name); break;
    case DType::kFP16:
    case DType::kBF16:
      return Bad("input '" + name + "': " + DTypeKServeName(t->dtype()) +
                 " data travels only as binary (binary_data_size parameter)");
  }
  OPTIC_RETURN_IF_ERROR(s);
  if (at != n) {
    return Bad("input '" + name + "': data has " + std::to_string(at) + " elements, shape " +
               ShapeToString(t->shape()) + " needs " + std::to_string(n));
  }
  return Status::OK();
}

Status ReadShape(const json& j, const std::string& name, Shape* out) {
  if (!j.is_array()) return Bad("input '" + name + "': 'shape' must be an array of integers");
  for (const auto& d : j) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) {
      return Bad("input '" + name + "': 'shape' must hold non-negative integers");
    }
    out->push_back(d.get<int64_t>());
  }
  return Status::OK();
}

// Reads a parameters object's optional entry of the expected JSON type.
const json* Param(const json& obj, const char* key) {
  auto p = obj.find("parameters");
  if (p == obj.end() || !p->is_object()) return nullptr;
  auto v = p->find(key);
  return v == p->end() ? nullptr : &*v;
}

// Standard base64 (RFC 4648) with optional padding; whitespace is not allowed.
bool DecodeBase64(std::string_view in, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  out->clear();
  out->reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

Status CollectStrings(const json& data, std::vector<std::string>* out, int64_t n,
                      const std::string& name) {
  if (data.is_array()) {
    for (const auto& e : data) OPTIC_RETURN_IF_ERROR(CollectStrings(e, out, n, name));
    return Status::OK();
  }
  if (static_cast<int64_t>(out->size()) >= n) {
    return Bad("input '" + name + "': data has more elements than its shape");
  }
  if (!data.is_string()) {
    return Bad("input '" + name + "': BYTES element " + std::to_string(out->size()) +
               " is not a string");
  }
  out->push_back(data.get<std::string>());
  return Status::OK();
}

// BYTES from JSON `data` (strings, or base64 strings with content_type "base64").
Status JsonBytes(const json& in, const json& data, const std::string& name, BytesInput* b) {
  const int64_t n = ShapeNumel(b->shape);
  auto owned = std::make_shared<std::vector<std::string>>();
  OPTIC_RETURN_IF_ERROR(CollectStrings(data, owned.get(), n, name));
  if (static_cast<int64_t>(owned->size()) != n) {
    return Bad("input '" + name + "': data has " + std::to_string(owned->size()) +
               " elements, shape " + ShapeToString(b->shape) + " needs " + std::to_string(n));
  }
  if (const json* ct = Param(in, "content_type")) {
    if (!ct->is_string() || (*ct != "base64" && *ct != "str")) {
      return Bad("input '" + name + "': content_type must be \"base64\" or \"str\"");
    }
    if (*ct == "base64") {
      for (size_t i = 0; i < owned->size(); ++i) {
        std::string raw;
        if (!DecodeBase64((*owned)[i], &raw)) {
          return Bad("input '" + name + "': element " + std::to_string(i) + " is not valid base64");
        }
        (*owned)[i] = std::move(raw);
      }
    }
  }
  for (const auto& e : *owned) b->elements.emplace_back(e);
  b->owned = std::move(owned);
  return Status::OK();
}

}  // namespace

Status ParseHeaderLength(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 18) {
    return Bad("Inference-Header-Content-Length '" + std::string(text) + "' is not a byte count");
  }
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return Bad("Inference-Header-Content-Length '" + std::string(text) + "' is not a byte count");
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return Status::OK();
}

Status DecodeInferRequest(std::string_view body, std::optional<uint64_t> header_length,
                          InferenceRequest* out) {
  const uint64_t hlen = header_length.value_or(body.size());
  if (hlen > body.size()) {
    return Bad("Inference-Header-Content-Length " + std::to_string(hlen) +
               " exceeds the body's " + std::to_string(body.size()) + " bytes");
  }
  // Shared with the decode functions, which run during validation.
  auto doc = std::make_shared<json>(json::parse(body.substr(0, hlen), nullptr, /*allow_exceptions=*/false));
  const json& j = *doc;
  if (j.is_discarded()) return Bad("request header is not valid JSON");
  if (!j.is_object()) return Bad("request must be a JSON object");
  InferenceRequest r;
  if (auto it = j.find("id"); it != j.end()) {
    if (!it->is_string()) return Bad("'id' must be a string");
    r.id = it->get<std::string>();
  }
  if (const json* p = Param(j, "binary_data_output")) {
    if (!p->is_boolean()) return Bad("parameter binary_data_output must be a boolean");
    r.binary_output_default = p->get<bool>();
  }
  if (const json* p = Param(j, "priority")) {
    if (!p->is_number_integer() || p->get<int64_t>() < 0) return BadPriorityParameter();
    r.priority = p->get<int64_t>();
  }
  if (const json* p = Param(j, "timeout")) {
    if (!p->is_number_integer() || p->get<int64_t>() < 0) return BadTimeoutParameter();
    r.timeout_us = p->get<uint64_t>();
  }
  auto inputs = j.find("inputs");
  if (inputs == j.end() || !inputs->is_array()) return Bad("request needs an 'inputs' array");
  uint64_t cursor = hlen;
  for (const auto& in : *inputs) {
    if (!in.is_object()) {
      r.inputs_error = Bad("each input must be an object");
      break;
    }
    auto name_it = in.find("name");
    if (name_it == in.end() || !name_it->is_string()) {
      r.inputs_error = Bad("an input has no 'name' string");
      break;
    }
    InferInput t;
    t.name = name_it->get<std::string>();
    const std::string& name = t.name;
    auto dt = in.find("datatype");
    if (dt == in.end() || !dt->is_string()) t.datatype_error = Bad("input '" + name + "' has no 'datatype'");
    else t.datatype = dt->get<std::string>();
    auto sh = in.find("shape");
    if (sh == in.end()) t.shape_error = Bad("input '" + name + "' has no 'shape'");
    else t.shape_error = ReadShape(*sh, name, &t.shape);
    if (const json* bsize = Param(in, "binary_data_size")) {
      if (!header_length) {
        t.decode = [name](const IOSpec&, Tensor*, BytesInput*) {
          return Bad("input '" + name + "' has binary_data_size but the request has no Inference-Header-Content-Length");
        };
      } else {
        // A size that is no byte count matches no tensor: validation names the size wanted.
        const uint64_t n = bsize->is_number_unsigned() ? bsize->get<uint64_t>() : UINT64_MAX;
        t.binary_size = n;
        t.raw = body.substr(cursor, std::min<uint64_t>(n, body.size() - cursor));
        cursor += t.raw.size();
      }
    } else if (auto data = in.find("data"); data != in.end()) {
      const json* input = &in;
      const json* values = &*data;
      t.decode = [doc, input, values, shape = t.shape](const IOSpec& spec, Tensor* tensor,
                                                       BytesInput* bytes) {
        if (spec.bytes) return JsonBytes(*input, *values, spec.name, bytes);
        OPTIC_RETURN_IF_ERROR(Tensor::Empty(spec.dtype, shape, tensor));
        return JsonData(*values, tensor, spec.name);
      };
    }
    r.inputs.push_back(std::move(t));
  }
  r.unclaimed_bytes = body.size() - cursor;
  if (auto outs = j.find("outputs"); outs != j.end()) {
    if (!outs->is_array()) {
      r.outputs_error = Bad("'outputs' must be an array");
    } else {
      for (const auto& o : *outs) {
        if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) {
          r.outputs_error = Bad("each requested output needs a 'name' string");
          break;
        }
        RequestedOutputIn ro{o["name"].get<std::string>(), r.binary_output_default};
        if (const json* b = Param(o, "binary_data")) {
          if (!b->is_boolean()) ro.error = Bad("output '" + ro.name + "': binary_data must be a boolean");
          else ro.binary = b->get<bool>();
        }
        ro.classification = Param(o, "classification") != nullptr;
        r.outputs.push_back(std::move(ro));
      }
    }
  }
  *out = std::move(r);
  return Status::OK();
}

Status ParseInferRequest(std::string_view body, std::optional<uint64_t> header_length,
                         const ModelSignature& sig, const CodecLimits& limits,
                         ParsedInferRequest* out) {
  InferenceRequest request;
  OPTIC_RETURN_IF_ERROR(DecodeInferRequest(body, header_length, &request));
  return ValidateInferRequest(request, sig, limits, out);
}

Status EncodeInferResponse(const std::string& model, const std::string& version,
                           const ParsedInferRequest& request, const ModelSignature& sig,
                           const std::vector<Tensor>& outputs, EncodedResponse* out) {
  if (outputs.size() != sig.outputs.size()) {
    return Status::Internal("model returned " + std::to_string(outputs.size()) + " outputs, " +
                            std::to_string(sig.outputs.size()) + " declared");
  }
  InferenceResponse r;
  r.model_name = model;
  r.model_version = version;
  r.id = request.id;
  r.outputs = request.outputs;
  if (r.outputs.empty()) {
    for (const auto& s : sig.outputs) r.outputs.push_back({s.name, request.binary_output_default});
  }
  for (const auto& w : r.outputs) {
    size_t i = 0;
    while (i < sig.outputs.size() && sig.outputs[i].name != w.name) ++i;
    if (i == sig.outputs.size()) return Bad("unknown output '" + w.name + "' requested");
    r.tensors.push_back(outputs[i]);
  }
  return EncodeInferResponse(r, out);
}

Status EncodeInferResponse(const InferenceResponse& response, EncodedResponse* out) {
  OPTIC_RETURN_IF_ERROR(EncodeInferResponseHeader(response, out));
  size_t total = out->body.size();
  for (const Tensor& t : out->tail) total += t.nbytes();
  out->body.reserve(total);
  for (const Tensor& t : out->tail) out->body.append(static_cast<const char*>(t.raw()), t.nbytes());
  out->tail.clear();
  return Status::OK();
}

Status EncodeInferResponseHeader(const InferenceResponse& response, EncodedResponse* out) {
  json j = {{"model_name", response.model_name}, {"model_version", response.model_version}};
  if (!response.id.empty()) j["id"] = response.id;
  json outs = json::array();
  std::vector<const Tensor*> binary;
  for (size_t k = 0; k < response.outputs.size(); ++k) {
    const RequestedOutput& w = response.outputs[k];
    const Tensor& t = response.tensors[k];
    json o = {{"name", w.name}, {"datatype", DTypeKServeName(t.dtype())}, {"shape", t.shape()}};
    if (w.binary) {
      o["parameters"] = {{"binary_data_size", t.nbytes()}};
      binary.push_back(&t);
    } else {
      json data = json::array();
      switch (t.dtype()) {
        case DType::kFP32: data = std::vector<float>(t.data<float>(), t.data<float>() + t.numel()); break;
        case DType::kINT8: data = std::vector<int8_t>(t.data<int8_t>(), t.data<int8_t>() + t.numel()); break;
        case DType::kUINT8: data = std::vector<uint8_t>(t.data<uint8_t>(), t.data<uint8_t>() + t.numel()); break;
        case DType::kINT32: data = std::vector<int32_t>(t.data<int32_t>(), t.data<int32_t>() + t.numel()); break;
        case DType::kINT64: data = std::vector<int64_t>(t.data<int64_t>(), t.data<int64_t>() + t.numel()); break;
        case DType::kFP16:
        case DType::kBF16:
          return Bad("output '" + w.name + "' is " + DTypeKServeName(t.dtype()) +
                     ", which travels only as binary (request parameter binary_data: true)");
      }
      o["data"] = std::move(data);
    }
    outs.push_back(std::move(o));
  }
  j["outputs"] = std::move(outs);
  out->body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  out->header_length = binary.empty() ? 0 : out->body.size();
  out->tail.clear();
  for (const Tensor* t : binary) out->tail.push_back(*t);
  return Status::OK();
}

}  // namespace optic::server
