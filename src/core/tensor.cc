#include "optic/tensor.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <sstream>

namespace optic {

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kFP32: case DType::kINT32: return 4;
    case DType::kFP16: case DType::kBF16: return 2;
    case DType::kINT8: case DType::kUINT8: return 1;
    case DType::kINT64: return 8;
  }
  return 0;
}

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFP32: return "fp32";
    case DType::kFP16: return "fp16";
    case DType::kBF16: return "bf16";
    case DType::kINT8: return "int8";
    case DType::kUINT8: return "uint8";
    case DType::kINT32: return "int32";
    case DType::kINT64: return "int64";
  }
  return "?";
}

const char* DTypeKServeName(DType dtype) {
  switch (dtype) {
    case DType::kFP32: return "FP32";
    case DType::kFP16: return "FP16";
    case DType::kBF16: return "BF16";
    case DType::kINT8: return "INT8";
    case DType::kUINT8: return "UINT8";
    case DType::kINT32: return "INT32";
    case DType::kINT64: return "INT64";
  }
  return "?";
}

static std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Status ParseDType(const std::string& text, DType* out) {
  static const DType kAll[] = {DType::kFP32, DType::kFP16, DType::kBF16, DType::kINT8,
                               DType::kUINT8, DType::kINT32, DType::kINT64};
  const std::string t = Lower(text);
  for (DType d : kAll) {
    if (t == DTypeName(d)) { *out = d; return Status::OK(); }
  }
  if (t == "float32" || t == "float") { *out = DType::kFP32; return Status::OK(); }
  if (t == "float16" || t == "half") { *out = DType::kFP16; return Status::OK(); }
  if (t == "bfloat16") { *out = DType::kBF16; return Status::OK(); }
  return Status::InvalidArgument("unknown dtype '" + text +
                                 "' (expected fp32, fp16, bf16, int8, uint8, int32 or int64)");
}

int64_t ShapeNumel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << "]";
  return s.str();
}

Status Tensor::Empty(DType dtype, Shape shape, Tensor* out) {
  for (int64_t d : shape) {
    if (d < 0) return Status::InvalidArgument("negative dimension in shape " + ShapeToString(shape));
  }
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  const size_t bytes = t.nbytes();
  const size_t rounded = std::max<size_t>(64, (bytes + 63) / 64 * 64);
  void* p = std::aligned_alloc(64, rounded);
  if (p == nullptr) {
    return Status::OutOfMemory("cannot allocate " + std::to_string(bytes) + " bytes for tensor " +
                               ShapeToString(t.shape_));
  }
  t.holder_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  t.data_ = p;
  *out = std::move(t);
  return Status::OK();
}

Tensor Tensor::EmptyOrDie(DType dtype, Shape shape) {
  Tensor t;
  Status s = Empty(dtype, std::move(shape), &t);
  if (!s.ok()) throw std::bad_alloc();  // internal invariant: callers pass sane sizes
  return t;
}

Tensor Tensor::Borrow(void* data, DType dtype, Shape shape, Device device) {
  Tensor t;
  t.data_ = data;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.device_ = device;
  return t;
}

Tensor Tensor::FromHolder(std::shared_ptr<void> holder, void* data, DType dtype, Shape shape,
                          Device device) {
  Tensor t = Borrow(data, dtype, std::move(shape), device);
  t.holder_ = std::move(holder);
  return t;
}

Status Tensor::Slice(int64_t begin, int64_t end, Tensor* out) const {
  if (shape_.empty()) return Status::InvalidArgument("cannot slice a scalar tensor");
  if (begin < 0 || end < begin || end > shape_[0]) {
    return Status::InvalidArgument("slice [" + std::to_string(begin) + ", " + std::to_string(end) +
                                   ") out of range for shape " + ShapeToString(shape_));
  }
  Shape row = shape_;
  row[0] = 1;
  const size_t row_bytes = static_cast<size_t>(ShapeNumel(row)) * DTypeSize(dtype_);
  Tensor t = *this;
  t.shape_[0] = end - begin;
  t.data_ = static_cast<char*>(data_) + begin * row_bytes;
  *out = std::move(t);
  return Status::OK();
}

Status Tensor::Reshape(Shape shape, Tensor* out) const {
  if (ShapeNumel(shape) != numel()) {
    return Status::InvalidArgument("cannot reshape " + ShapeToString(shape_) + " to " +
                                   ShapeToString(shape));
  }
  Tensor t = *this;
  t.shape_ = std::move(shape);
  *out = std::move(t);
  return Status::OK();
}

Status Tensor::Clone(Tensor* out) const {
  if (!is_host()) return Status::Unsupported("Clone of a device tensor needs the device's copy");
  Tensor t;
  OPTIC_RETURN_IF_ERROR(Empty(dtype_, shape_, &t));
  if (nbytes() > 0) std::memcpy(t.data_, data_, nbytes());
  *out = std::move(t);
  return Status::OK();
}

static bool IsFloat(DType d) { return d == DType::kFP32 || d == DType::kFP16 || d == DType::kBF16; }

Status Tensor::ConvertTo(DType dtype, Tensor* out) const {
  if (dtype == dtype_) return Clone(out);
  if (!is_host()) return Status::Unsupported("ConvertTo of a device tensor");
  if (!IsFloat(dtype) || !IsFloat(dtype_)) {
    return Status::Unsupported(std::string("conversion from ") + DTypeName(dtype_) + " to " +
                               DTypeName(dtype));
  }
  Tensor t;
  OPTIC_RETURN_IF_ERROR(Empty(dtype, shape_, &t));
  const int64_t n = numel();
  for (int64_t i = 0; i < n; ++i) {
    const float v = static_cast<float>(GetAsDouble(i));
    switch (dtype) {
      case DType::kFP32: t.data<float>()[i] = v; break;
      case DType::kFP16: t.data<uint16_t>()[i] = FloatToHalf(v); break;
      case DType::kBF16: t.data<uint16_t>()[i] = FloatToBFloat16(v); break;
      default: break;
    }
  }
  *out = std::move(t);
  return Status::OK();
}

double Tensor::GetAsDouble(int64_t i) const {
  switch (dtype_) {
    case DType::kFP32: return data<float>()[i];
    case DType::kFP16: return HalfToFloat(data<uint16_t>()[i]);
    case DType::kBF16: return BFloat16ToFloat(data<uint16_t>()[i]);
    case DType::kINT8: return data<int8_t>()[i];
    case DType::kUINT8: return data<uint8_t>()[i];
    case DType::kINT32: return data<int32_t>()[i];
    case DType::kINT64: return static_cast<double>(data<int64_t>()[i]);
  }
  return 0;
}

std::string Tensor::DebugString() const {
  return std::string(DTypeName(dtype_)) + ShapeToString(shape_) + " " + DeviceName(device_) +
         (owning() ? " owning" : " borrowed");
}

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mant = x & 0x7fffffu;
  const int32_t exp = static_cast<int32_t>((x >> 23) & 0xffu);
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0u));
  int32_t e = exp - 127 + 15;
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow to inf
  if (e <= 0) {                                                 // subnormal or zero
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - e;
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into exponent: correct
  return static_cast<uint16_t>(sign | h);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0x1f) {
    x = sign | 0x7f800000u | (mant << 13);
  } else if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {
      int e = -1;
      do { ++e; mant <<= 1; } while ((mant & 0x400u) == 0);
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

uint16_t FloatToBFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // NaN
  const uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

float BFloat16ToFloat(uint16_t b) {
  const uint32_t x = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

Status FillUniform(Tensor* tensor, uint64_t seed, float lo, float hi) {
  if (!tensor->is_host()) return Status::Unsupported("FillUniform needs a host tensor");
  std::mt19937_64 rng(seed);
  // Not std::uniform_real_distribution: its output is implementation-defined, and the pool must be
  // the same on every machine.
  const double scale = (static_cast<double>(hi) - lo) / 18446744073709551616.0;
  const int64_t n = tensor->numel();
  for (int64_t i = 0; i < n; ++i) {
    const float v = static_cast<float>(lo + static_cast<double>(rng()) * scale);
    switch (tensor->dtype()) {
      case DType::kFP32: tensor->data<float>()[i] = v; break;
      case DType::kFP16: tensor->data<uint16_t>()[i] = FloatToHalf(v); break;
      case DType::kBF16: tensor->data<uint16_t>()[i] = FloatToBFloat16(v); break;
      default:
        return Status::Unsupported(std::string("FillUniform for dtype ") +
                                   DTypeName(tensor->dtype()));
    }
  }
  return Status::OK();
}

Status CompareTensors(const Tensor& out, const Tensor& ref, TensorDiff* diff) {
  if (out.shape() != ref.shape()) {
    return Status::InvalidArgument("shape " + ShapeToString(out.shape()) +
                                   " differs from reference " + ShapeToString(ref.shape()));
  }
  if (!out.is_host() || !ref.is_host()) return Status::Unsupported("compare needs host tensors");
  TensorDiff d;
  double ref_max = 0, err_sq = 0, ref_sq = 0;
  const int64_t n = out.numel();
  for (int64_t i = 0; i < n; ++i) {
    const double a = out.GetAsDouble(i), b = ref.GetAsDouble(i);
    if (!std::isfinite(a) || !std::isfinite(b)) { ++d.nan_count; continue; }
    d.max_abs = std::max(d.max_abs, std::fabs(a - b));
    ref_max = std::max(ref_max, std::fabs(b));
    err_sq += (a - b) * (a - b);
    ref_sq += b * b;
  }
  d.rel_l2 = ref_sq > 0 ? std::sqrt(err_sq / ref_sq) : (err_sq > 0 ? INFINITY : 0.0);
  d.max_rel = ref_max > 0 ? d.max_abs / ref_max : (d.max_abs > 0 ? INFINITY : 0.0);
  *diff = d;
  return Status::OK();
}

}  // namespace optic
