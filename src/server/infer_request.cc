#include "infer_request.h"

namespace optic::server {
namespace {

Status Bad(const std::string& m) { return Status::InvalidArgument(m); }

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

// BYTES in binary form: `raw` holds exactly the serialized elements, each a 4-byte
// little-endian length and that many bytes.
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

// The input's data, after its name, datatype and shape passed.
Status InputData(const InferInput& in, const IOSpec& spec, Tensor* tensor, BytesInput* bytes) {
  if (!in.binary_size) {
    if (!in.decode) {
      return Bad("input '" + in.name + "' has neither 'data' nor binary_data_size");
    }
    if (spec.bytes) bytes->shape = in.shape;
    return in.decode(spec, tensor, bytes);
  }
  const uint64_t declared = *in.binary_size;
  if (spec.bytes) {
    bytes->shape = in.shape;
    if (declared > in.raw.size()) {
      return Bad("input '" + in.name + "': binary_data_size must be a byte count within the body's " +
                 std::to_string(in.raw.size()) + " remaining bytes");
    }
    return BinaryBytes(in.raw.substr(0, declared), in.name, bytes);
  }
  const uint64_t nbytes = static_cast<uint64_t>(ShapeNumel(in.shape)) * DTypeSize(spec.dtype);
  if (declared != nbytes) {
    return Bad("input '" + in.name + "': binary_data_size must be " + std::to_string(nbytes) +
               " bytes for " + DTypeKServeName(spec.dtype) + ShapeToString(in.shape));
  }
  if (in.raw.size() < nbytes) {
    return Bad("input '" + in.name + "': binary data is " + std::to_string(in.raw.size()) +
               " bytes, " + std::to_string(nbytes) + " expected");
  }
  // The model reads inputs only; the borrowed bytes stay the transport's.
  *tensor = Tensor::Borrow(const_cast<char*>(in.raw.data()), spec.dtype, in.shape);
  return Status::OK();
}

}  // namespace

std::string SpecDatatype(const IOSpec& spec) {
  return spec.bytes ? "BYTES" : DTypeKServeName(spec.dtype);
}

Status BadPriorityParameter() { return Bad("parameter priority must be a non-negative integer"); }
Status BadTimeoutParameter() {
  return Bad("parameter timeout must be a non-negative integer (microseconds)");
}

Status ValidateInferRequest(const InferenceRequest& req, const ModelSignature& sig,
                            const CodecLimits& limits, ParsedInferRequest* out) {
  ParsedInferRequest r;
  r.id = req.id;
  r.priority = req.priority;
  r.timeout_us = req.timeout_us;
  r.binary_output_default = req.binary_output_default;
  r.inputs.resize(sig.inputs.size());
  r.bytes.resize(sig.inputs.size());
  std::vector<bool> seen(sig.inputs.size(), false);
  int64_t rows = -1;
  for (const auto& in : req.inputs) {
    size_t idx = 0;
    while (idx < sig.inputs.size() && sig.inputs[idx].name != in.name) ++idx;
    if (idx == sig.inputs.size()) {
      std::string names;
      for (const auto& s : sig.inputs) names += (names.empty() ? "" : ", ") + s.name;
      return Bad("unexpected input '" + in.name + "' (the model's inputs: " + names + ")");
    }
    if (seen[idx]) return Bad("input '" + in.name + "' appears twice");
    seen[idx] = true;
    const IOSpec& spec = sig.inputs[idx];
    OPTIC_RETURN_IF_ERROR(in.datatype_error);
    if (in.datatype != SpecDatatype(spec)) {
      return Bad("input '" + in.name + "': datatype " + in.datatype + " does not match the model's " +
                 SpecDatatype(spec));
    }
    OPTIC_RETURN_IF_ERROR(in.shape_error);
    int64_t in_rows = 0;
    OPTIC_RETURN_IF_ERROR(CheckShape(spec, in.shape, sig, limits, &in_rows));
    if (rows >= 0 && in_rows != rows) return Bad("inputs disagree on the batch size");
    rows = in_rows;
    OPTIC_RETURN_IF_ERROR(InputData(in, spec, &r.inputs[idx], &r.bytes[idx]));
  }
  OPTIC_RETURN_IF_ERROR(req.inputs_error);
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) return Bad("missing input '" + sig.inputs[i].name + "'");
  }
  if (req.unclaimed_bytes > 0) {
    return Bad(std::to_string(req.unclaimed_bytes) +
               " bytes after the header are not claimed by any input's binary_data_size");
  }
  r.rows = rows < 0 ? 1 : rows;
  for (const auto& o : req.outputs) {
    bool known = false;
    for (const auto& s : sig.outputs) known = known || s.name == o.name;
    if (!known) return Bad("unknown output '" + o.name + "' requested");
    OPTIC_RETURN_IF_ERROR(o.error);
    if (o.classification) {
      return Status::Unsupported("output '" + o.name +
                                 "': the classification extension is not supported");
    }
    r.outputs.push_back({o.name, o.binary});
  }
  OPTIC_RETURN_IF_ERROR(req.outputs_error);
  *out = std::move(r);
  return Status::OK();
}

}  // namespace optic::server
