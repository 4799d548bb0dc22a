#include "pipeline/messages.h"

#include <charconv>
#include <chrono>
#include <cstring>

namespace optic::pipeline {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

namespace {

const std::string* Find(const Fields& fields, const char* name) {
  for (const auto& [k, v] : fields) {
    if (k == name) return &v;
  }
  return nullptr;
}

Status Int(const Fields& fields, const char* name, int64_t min, int64_t max, int64_t* out) {
  const std::string* v = Find(fields, name);
  if (v == nullptr) return Status::InvalidArgument(std::string("field '") + name + "' is missing");
  int64_t x = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (ec != std::errc() || end != v->data() + v->size() || v->empty()) {
    return Status::InvalidArgument(std::string("field '") + name + "' is not an integer: '" +
                                   v->substr(0, 40) + "'");
  }
  if (x < min || x > max) {
    return Status::InvalidArgument(std::string("field '") + name + "' = " + std::to_string(x) +
                                   " is outside " + std::to_string(min) + ".." + std::to_string(max));
  }
  *out = x;
  return Status::OK();
}

std::string Bytes(const float* data, size_t n) {
  return std::string(reinterpret_cast<const char*>(data), n * sizeof(float));
}

constexpr int64_t kMaxObjects = 1 << 16;

}  // namespace

Fields EncodeCrop(const Crop& c) {
  std::string shape;
  for (int64_t d : c.pixels.shape()) shape += (shape.empty() ? "" : ",") + std::to_string(d);
  return {{"frame", std::to_string(c.frame)},
          {"object", std::to_string(c.object)},
          {"objects", std::to_string(c.objects)},
          {"enq", std::to_string(c.enqueue_ns)},
          {"reply", c.reply},
          {"shape", shape},
          {"data", Bytes(c.pixels.data<float>(), static_cast<size_t>(c.pixels.numel()))}};
}

Status DecodeCrop(const Fields& fields, const Shape& expected, Crop* out) {
  Crop c;
  int64_t v = 0;
  OPTIC_RETURN_IF_ERROR(Int(fields, "frame", 0, INT64_MAX, &c.frame));
  OPTIC_RETURN_IF_ERROR(Int(fields, "objects", 1, kMaxObjects, &v));
  c.objects = static_cast<int32_t>(v);
  OPTIC_RETURN_IF_ERROR(Int(fields, "object", 0, c.objects - 1, &v));
  c.object = static_cast<int32_t>(v);
  OPTIC_RETURN_IF_ERROR(Int(fields, "enq", 0, INT64_MAX, &c.enqueue_ns));
  const std::string* reply = Find(fields, "reply");
  if (reply == nullptr || reply->empty()) return Status::InvalidArgument("field 'reply' is missing or empty");
  c.reply = *reply;
  const std::string* shape = Find(fields, "shape");
  std::string want;
  for (int64_t d : expected) want += (want.empty() ? "" : ",") + std::to_string(d);
  if (shape == nullptr) return Status::InvalidArgument("field 'shape' is missing (expected '" + want + "')");
  if (*shape != want) {
    return Status::InvalidArgument("field 'shape' is '" + shape->substr(0, 40) + "', the embedder takes '" +
                                   want + "'");
  }
  const std::string* data = Find(fields, "data");
  const size_t bytes = static_cast<size_t>(ShapeNumel(expected)) * sizeof(float);
  if (data == nullptr) return Status::InvalidArgument("field 'data' is missing");
  if (data->size() != bytes) {
    return Status::InvalidArgument("field 'data' has " + std::to_string(data->size()) + " bytes, shape " +
                                   want + " fp32 needs " + std::to_string(bytes));
  }
  OPTIC_RETURN_IF_ERROR(Tensor::Empty(DType::kFP32, expected, &c.pixels));
  std::memcpy(c.pixels.raw(), data->data(), bytes);
  *out = std::move(c);
  return Status::OK();
}

Fields EncodeResult(const Result& r) {
  return {{"frame", std::to_string(r.frame)},
          {"object", std::to_string(r.object)},
          {"enq", std::to_string(r.enqueue_ns)},
          {"deq", std::to_string(r.dequeue_ns)},
          {"s2end", std::to_string(r.stage2_end_ns)},
          {"batch", std::to_string(r.batch)},
          {"worker", r.worker},
          {"emb", Bytes(r.embedding.data(), r.embedding.size())}};
}

Status DecodeResult(const Fields& fields, Result* out) {
  Result r;
  int64_t v = 0;
  OPTIC_RETURN_IF_ERROR(Int(fields, "frame", 0, INT64_MAX, &r.frame));
  OPTIC_RETURN_IF_ERROR(Int(fields, "object", 0, kMaxObjects, &v));
  r.object = static_cast<int32_t>(v);
  OPTIC_RETURN_IF_ERROR(Int(fields, "enq", 0, INT64_MAX, &r.enqueue_ns));
  OPTIC_RETURN_IF_ERROR(Int(fields, "deq", 0, INT64_MAX, &r.dequeue_ns));
  OPTIC_RETURN_IF_ERROR(Int(fields, "s2end", 0, INT64_MAX, &r.stage2_end_ns));
  OPTIC_RETURN_IF_ERROR(Int(fields, "batch", 1, kMaxObjects, &v));
  r.batch = static_cast<int32_t>(v);
  if (const std::string* w = Find(fields, "worker")) r.worker = *w;
  const std::string* emb = Find(fields, "emb");
  if (emb == nullptr || emb->empty() || emb->size() % sizeof(float) != 0) {
    return Status::InvalidArgument("field 'emb' is missing or not whole fp32 values");
  }
  r.embedding.resize(emb->size() / sizeof(float));
  std::memcpy(r.embedding.data(), emb->data(), emb->size());
  *out = std::move(r);
  return Status::OK();
}

}  // namespace optic::pipeline
