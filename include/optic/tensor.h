// Tensor: a typed, shaped block of memory on the host or a device, owning or borrowed.
//
// Ownership: a tensor made by Tensor::Empty (or Clone, ConvertTo) owns its memory through a shared
// holder, so copies of the Tensor object share the same bytes (copying a Tensor never copies
// data; call Clone for that). A tensor made by Tensor::Borrow does not own its memory: the caller
// keeps the memory alive for as long as any copy of the tensor is used. Slice returns a view
// that keeps the parent's holder (if any) alive.
// Threading: a Tensor is not synchronized. Any number of threads may read one; a writer needs
// exclusive access.
// Device memory: Empty allocates host memory only; device allocators (src/backends/cuda) wrap their
// memory with FromHolder and a deleter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "optic/device.h"
#include "optic/status.h"

namespace optic {

enum class DType { kFP32, kFP16, kBF16, kINT8, kUINT8, kINT32, kINT64 };

size_t DTypeSize(DType dtype);
// Lower-case short names used on the command line and in results: fp32, fp16, bf16, int8, uint8,
// int32, int64.
const char* DTypeName(DType dtype);
// KServe v2 datatype names: FP32, FP16, BF16, INT8, UINT8, INT32, INT64.
const char* DTypeKServeName(DType dtype);
// Accepts the short names and the KServe names, case-insensitive.
Status ParseDType(const std::string& text, DType* out);

using Shape = std::vector<int64_t>;
// Product of the dimensions; 1 for a scalar. Dimensions must be non-negative.
int64_t ShapeNumel(const Shape& shape);
// "[2, 3, 224, 224]"
std::string ShapeToString(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;

  // Allocates uninitialized host memory, 64-byte aligned. Fails with kOutOfMemory or, for a
  // negative dimension, kInvalidArgument.
  static Status Empty(DType dtype, Shape shape, Tensor* out);
  // Same, aborting only when the allocation fails; for internal use where the size is known sane.
  static Tensor EmptyOrDie(DType dtype, Shape shape);
  // A view on memory the caller owns (see the ownership rule above).
  static Tensor Borrow(void* data, DType dtype, Shape shape, Device device = {});
  // Owning tensor over memory held by `holder` (its deleter frees it), on any device.
  static Tensor FromHolder(std::shared_ptr<void> holder, void* data, DType dtype, Shape shape,
                           Device device);

  bool defined() const { return data_ != nullptr || numel() == 0; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  size_t rank() const { return shape_.size(); }
  int64_t numel() const { return ShapeNumel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * DTypeSize(dtype_); }
  const Device& device() const { return device_; }
  bool is_host() const { return device_.is_cpu(); }
  bool owning() const { return holder_ != nullptr; }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <typename T> T* data() { return static_cast<T*>(data_); }
  template <typename T> const T* data() const { return static_cast<const T*>(data_); }

  // Rows [begin, end) along axis 0, as a view sharing memory with this tensor.
  Status Slice(int64_t begin, int64_t end, Tensor* out) const;
  // Same memory, new shape with the same number of elements.
  Status Reshape(Shape shape, Tensor* out) const;
  // Deep copy into new host memory. Host tensors only.
  Status Clone(Tensor* out) const;
  // Converts between fp32, fp16 and bf16 (and copies for the same dtype) into new host memory.
  Status ConvertTo(DType dtype, Tensor* out) const;
  // Reads element i (flat index) as a double, whatever the dtype. Host tensors only.
  double GetAsDouble(int64_t i) const;

  std::string DebugString() const;  // "fp32[2, 1000] cpu owning"

 private:
  std::shared_ptr<void> holder_;
  void* data_ = nullptr;
  DType dtype_ = DType::kFP32;
  Shape shape_;
  Device device_;
};

// IEEE half and bfloat16 conversions (round to nearest even).
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);
uint16_t FloatToBFloat16(float f);
float BFloat16ToFloat(uint16_t b);

// Fills a host float tensor (fp32/fp16/bf16) with values drawn uniformly from [lo, hi) by a
// seeded generator (std::mt19937_64), the same on every machine.
Status FillUniform(Tensor* tensor, uint64_t seed, float lo = -1.0f, float hi = 1.0f);

// Differences between an output and a reference of the same shape (any float dtypes, host).
// max_rel is max|a-b| / max|ref| (relative to the reference's largest magnitude, so elements
// near zero do not blow it up); rel_l2 is ||a-b||_2 / ||ref||_2 (the norm-wise relative error
// numerical analysts use, robust to one outlier logit); nan_count counts elements where either
// side is NaN or inf.
struct TensorDiff {
  double max_abs = 0;
  double max_rel = 0;
  double rel_l2 = 0;
  int64_t nan_count = 0;
};
Status CompareTensors(const Tensor& out, const Tensor& ref, TensorDiff* diff);

}  // namespace optic
