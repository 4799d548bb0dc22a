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

Status CheckShape(const IOSpec& spec, const Shape& shape, const ModelSignature& sig,
                  const CodecLimits& limits, int64_t* rows) {
  const bool batching = sig.max_batch_size > 0;
  const size_t want = spec.dims.size() + (batching ? 1 : 0);
  bool ok = shape.size() == want;
  for (size_t d = 0; ok && d < spec.dims.size(); ++d) {
    const int64_t got = shape[d + (batching ? 1 : 0)];
    ok = spec.dims[d] == -1 || spec.dims[d] == got;
  }
  if (!ok) {
    Shape expect = spec.dims;
    if (batching) expect.insert(expect.begin(), -1);
    return Bad("input '" + spec.name + "': shape " + ShapeToString(shape) +
               " does not match the model's " + ShapeToString(expect));
  }
  double elements = 1;
  for (int64_t d : shape) elements *= static_cast<double>(d);
  if (elements > static_cast<double>(limits.max_elements)) {
    return Bad("input '" + spec.name + "': " + std::to_string(static_cast<int64_t>(elements)) +
               " elements exceed the server's limit of " + std::to_string(limits.max_elements));
  }
  *rows = batching ? shape[0] : 1;
  if (batching && (*rows < 1 || *rows > sig.max_batch_size)) {
    return Bad("input '" + spec.name + "': batch size " + std::to_string(*rows) +
               " is outside 1.." + std::to_string(sig.max_batch_size) + " (max_batch_size)");
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

// BYTES from the binary extension: `raw` holds exactly the serialized elements.
Status BinaryBytes(std::string_view raw, const std::string& name, BytesInput* b) {
  const int64_t n = ShapeNumel(b->shape);
  size_t at = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (raw.size() - at < 4) {
      return Bad("input '" + name + "': BYTES element " + std::to_string(i) +
                 " has no 4-byte length prefix (" + std::to_string(raw.size() - at) + " bytes left)");
    }
    const auto* p = reinterpret_cast<const unsigned char*>(raw.data() + at);
    const uint64_t len = uint64_t{p[0]} | uint64_t{p[1]} << 8 | uint64_t{p[2]} << 16 | uint64_t{p[3]} << 24;
    at += 4;
    if (raw.size() - at < len) {
      return Bad("input '" + name + "': BYTES element " + std::to_string(i) + " claims " +
                 std::to_string(len) + " bytes, " + std::to_string(raw.size() - at) + " remain");
    }
    b->elements.emplace_back(raw.substr(at, len));
    at += len;
  }
  if (at != raw.size()) {
    return Bad("input '" + name + "': " + std::to_string(raw.size() - at) +
               " bytes after its " + std::to_string(n) + " BYTES elements");
  }
  return Status::OK();
}

}  // namespace

std::string SpecDatatype(const IOSpec& spec) {
  return spec.bytes ? "BYTES" : DTypeKServeName(spec.dtype);
}

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

Status ParseInferRequest(std::string_view body, std::optional<uint64_t> header_length,
                         const ModelSignature& sig, const CodecLimits& limits,
                         ParsedInferRequest* out) {
  const uint64_t hlen = header_length.value_or(body.size());
  if (hlen > body.size()) {
    return Bad("Inference-Header-Content-Length " + std::to_string(hlen) +
               " exceeds the body's " + std::to_string(body.size()) + " bytes");
  }
  json j = json::parse(body.substr(0, hlen), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("request header is not valid JSON");
  if (!j.is_object()) return Bad("request must be a JSON object");
  ParsedInferRequest r;
  if (auto it = j.find("id"); it != j.end()) {
    if (!it->is_string()) return Bad("'id' must be a string");
    r.id = it->get<std::string>();
  }
  if (const json* p = Param(j, "binary_data_output")) {
    if (!p->is_boolean()) return Bad("parameter binary_data_output must be a boolean");
    r.binary_output_default = p->get<bool>();
  }
  if (const json* p = Param(j, "priority")) {
    if (!p->is_number_integer() || p->get<int64_t>() < 0) return Bad("parameter priority must be a non-negative integer");
    r.priority = p->get<int64_t>();
  }
  if (const json* p = Param(j, "timeout")) {
    if (!p->is_number_integer() || p->get<int64_t>() < 0) return Bad("parameter timeout must be a non-negative integer (microseconds)");
    r.timeout_us = p->get<uint64_t>();
  }
  auto inputs = j.find("inputs");
  if (inputs == j.end() || !inputs->is_array()) return Bad("request needs an 'inputs' array");
  r.inputs.resize(sig.inputs.size());
  r.bytes.resize(sig.inputs.size());
  std::vector<bool> seen(sig.inputs.size(), false);
  uint64_t cursor = hlen;
  int64_t rows = -1;
  for (const auto& in : *inputs) {
    if (!in.is_object()) return Bad("each input must be an object");
    auto name_it = in.find("name");
    if (name_it == in.end() || !name_it->is_string()) return Bad("an input has no 'name' string");
    const std::string name = name_it->get<std::string>();
    size_t idx = 0;
    while (idx < sig.inputs.size() && sig.inputs[idx].name != name) ++idx;
    if (idx == sig.inputs.size()) {
      std::string names;
      for (const auto& s : sig.inputs) names += (names.empty() ? "" : ", ") + s.name;
      return Bad("unexpected input '" + name + "' (the model's inputs: " + names + ")");
    }
    if (seen[idx]) return Bad("input '" + name + "' appears twice");
    seen[idx] = true;
    const IOSpec& spec = sig.inputs[idx];
    auto dt = in.find("datatype");
    if (dt == in.end() || !dt->is_string()) return Bad("input '" + name + "' has no 'datatype'");
    if (dt->get<std::string>() != SpecDatatype(spec)) {
      return Bad("input '" + name + "': datatype " + dt->get<std::string>() +
                 " does not match the model's " + SpecDatatype(spec));
    }
    auto sh = in.find("shape");
    if (sh == in.end()) return Bad("input '" + name + "' has no 'shape'");
    Shape shape;
    OPTIC_RETURN_IF_ERROR(ReadShape(*sh, name, &shape));
    int64_t in_rows = 0;
    OPTIC_RETURN_IF_ERROR(CheckShape(spec, shape, sig, limits, &in_rows));
    if (rows >= 0 && in_rows != rows) return Bad("inputs disagree on the batch size");
    rows = in_rows;
    if (spec.bytes) {
      BytesInput& b = r.bytes[idx];
      b.shape = shape;
      if (const json* bsize = Param(in, "binary_data_size")) {
        if (!header_length) return Bad("input '" + name + "' has binary_data_size but the request has no Inference-Header-Content-Length");
        if (!bsize->is_number_unsigned() || bsize->get<uint64_t>() > body.size() - cursor) {
          return Bad("input '" + name + "': binary_data_size must be a byte count within the body's " +
                     std::to_string(body.size() - cursor) + " remaining bytes");
        }
        const uint64_t n = bsize->get<uint64_t>();
        OPTIC_RETURN_IF_ERROR(BinaryBytes(body.substr(cursor, n), name, &b));
        cursor += n;
      } else {
        auto data = in.find("data");
        if (data == in.end()) return Bad("input '" + name + "' has neither 'data' nor binary_data_size");
        OPTIC_RETURN_IF_ERROR(JsonBytes(in, *data, name, &b));
      }
      continue;
    }
    const uint64_t nbytes = static_cast<uint64_t>(ShapeNumel(shape)) * DTypeSize(spec.dtype);
    if (const json* bsize = Param(in, "binary_data_size")) {
      if (!header_length) return Bad("input '" + name + "' has binary_data_size but the request has no Inference-Header-Content-Length");
      if (!bsize->is_number_unsigned() || bsize->get<uint64_t>() != nbytes) {
        return Bad("input '" + name + "': binary_data_size must be " + std::to_string(nbytes) +
                   " bytes for " + DTypeKServeName(spec.dtype) + ShapeToString(shape));
      }
      if (body.size() - cursor < nbytes) {
        return Bad("input '" + name + "': binary data is " + std::to_string(body.size() - cursor) +
                   " bytes, " + std::to_string(nbytes) + " expected");
      }
      r.inputs[idx] = Tensor::Borrow(const_cast<char*>(body.data() + cursor), spec.dtype, shape);
      cursor += nbytes;
    } else {
      auto data = in.find("data");
      if (data == in.end()) return Bad("input '" + name + "' has neither 'data' nor binary_data_size");
      Tensor t;
      OPTIC_RETURN_IF_ERROR(Tensor::Empty(spec.dtype, shape, &t));
      OPTIC_RETURN_IF_ERROR(JsonData(*data, &t, name));
      r.inputs[idx] = std::move(t);
    }
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) return Bad("missing input '" + sig.inputs[i].name + "'");
  }
  if (cursor != body.size()) {
    return Bad(std::to_string(body.size() - cursor) + " bytes after the header are not claimed by any input's binary_data_size");
  }
  r.rows = rows < 0 ? 1 : rows;
  if (auto outs = j.find("outputs"); outs != j.end()) {
    if (!outs->is_array()) return Bad("'outputs' must be an array");
    for (const auto& o : *outs) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) {
        return Bad("each requested output needs a 'name' string");
      }
      RequestedOutput ro{o["name"].get<std::string>(), r.binary_output_default};
      bool known = false;
      for (const auto& s : sig.outputs) known = known || s.name == ro.name;
      if (!known) return Bad("unknown output '" + ro.name + "' requested");
      if (const json* b = Param(o, "binary_data")) {
        if (!b->is_boolean()) return Bad("output '" + ro.name + "': binary_data must be a boolean");
        ro.binary = b->get<bool>();
      }
      if (const json* c = Param(o, "classification")) {
        (void)c;
        return Status::Unsupported("output '" + ro.name + "': the classification extension is not supported");
      }
      r.outputs.push_back(std::move(ro));
    }
  }
  *out = std::move(r);
  return Status::OK();
}

Status EncodeInferResponse(const std::string& model, const std::string& version,
                           const ParsedInferRequest& request, const ModelSignature& sig,
                           const std::vector<Tensor>& outputs, EncodedResponse* out) {
  if (outputs.size() != sig.outputs.size()) {
    return Status::Internal("model returned " + std::to_string(outputs.size()) + " outputs, " +
                            std::to_string(sig.outputs.size()) + " declared");
  }
  std::vector<RequestedOutput> wanted = request.outputs;
  if (wanted.empty()) {
    for (const auto& s : sig.outputs) wanted.push_back({s.name, request.binary_output_default});
  }
  json j = {{"model_name", model}, {"model_version", version}};
  if (!request.id.empty()) j["id"] = request.id;
  json outs = json::array();
  std::vector<const Tensor*> binary;
  for (const auto& w : wanted) {
    size_t i = 0;
    while (sig.outputs[i].name != w.name) ++i;
    const Tensor& t = outputs[i];
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
  out->header_length = 0;
  if (!binary.empty()) {
    out->header_length = out->body.size();
    size_t total = out->body.size();
    for (const Tensor* t : binary) total += t->nbytes();
    out->body.reserve(total);
    for (const Tensor* t : binary) out->body.append(static_cast<const char*>(t->raw()), t->nbytes());
  }
  return Status::OK();
}

}  // namespace optic::server
