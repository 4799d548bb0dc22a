#include <cuda_fp16.h>

#include "resize_kernel.h"

namespace optic::preprocess {

namespace {

template <typename T>
__device__ inline T FromFloat(float v);
template <>
__device__ inline float FromFloat<float>(float v) { return v; }
template <>
__device__ inline __half FromFloat<__half>(float v) { return __float2half_rn(v); }

// One thread per output pixel; blockIdx.z is the image. Reads go through the read-only cache:
// neighbouring threads share most of their source footprint.
template <typename T, bool kNchw>
__global__ void ResizeNormalizeKernel(const GpuJob* __restrict__ jobs, const int* __restrict__ ints,
                                      const float* __restrict__ floats, int crop_w, int crop_h,
                                      GpuNormalize norm, T* __restrict__ out) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= crop_w || y >= crop_h) return;
  const GpuJob job = jobs[blockIdx.z];
  const size_t plane = static_cast<size_t>(crop_w) * crop_h;
  T* row = out + blockIdx.z * plane * 3;
  float acc[3] = {0.f, 0.f, 0.f};
  if (job.ok) {
    const int* xi = ints + job.int_offset;
    const int xs = xi[x], xc = xi[crop_w + x];
    const int ys = xi[2 * crop_w + y], yc = xi[2 * crop_w + crop_h + y];
    const float* wx = floats + job.float_offset + static_cast<size_t>(x) * job.taps_x;
    const float* wy = floats + job.float_offset + static_cast<size_t>(crop_w) * job.taps_x +
                      static_cast<size_t>(y) * job.taps_y;
    for (int ky = 0; ky < yc; ++ky) {
      const uint8_t* p = job.src + static_cast<size_t>(ys + ky) * job.pitch + static_cast<size_t>(xs) * 3;
      float r = 0.f, g = 0.f, b = 0.f;
      for (int kx = 0; kx < xc; ++kx) {
        const float w = __ldg(wx + kx);
        r += w * __ldg(p + 3 * kx);
        g += w * __ldg(p + 3 * kx + 1);
        b += w * __ldg(p + 3 * kx + 2);
      }
      const float w = __ldg(wy + ky);
      acc[0] += w * r;
      acc[1] += w * g;
      acc[2] += w * b;
    }
  }
  for (int c = 0; c < 3; ++c) {
    const float v = job.ok ? acc[c] * norm.mul[c] + norm.add[c] : 0.f;
    if (kNchw) {
      row[c * plane + static_cast<size_t>(y) * crop_w + x] = FromFloat<T>(v);
    } else {
      row[(static_cast<size_t>(y) * crop_w + x) * 3 + c] = FromFloat<T>(v);
    }
  }
}

template <typename T, bool kNchw>
cudaError_t Launch(const GpuJob* jobs, int n, const int* ints, const float* floats, int crop_w,
                   int crop_h, GpuNormalize norm, void* out, cudaStream_t stream) {
  const dim3 block(32, 8);
  const dim3 grid((crop_w + block.x - 1) / block.x, (crop_h + block.y - 1) / block.y, n);
  ResizeNormalizeKernel<T, kNchw><<<grid, block, 0, stream>>>(jobs, ints, floats, crop_w, crop_h,
                                                              norm, static_cast<T*>(out));
  return cudaGetLastError();
}

}  // namespace

cudaError_t LaunchResizeNormalize(const GpuJob* jobs, int n, const int* ints, const float* floats,
                                  int crop_w, int crop_h, GpuNormalize norm, bool fp16, bool nchw,
                                  void* out, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  if (fp16) {
    return nchw ? Launch<__half, true>(jobs, n, ints, floats, crop_w, crop_h, norm, out, stream)
                : Launch<__half, false>(jobs, n, ints, floats, crop_w, crop_h, norm, out, stream);
  }
  return nchw ? Launch<float, true>(jobs, n, ints, floats, crop_w, crop_h, norm, out, stream)
              : Launch<float, false>(jobs, n, ints, floats, crop_w, crop_h, norm, out, stream);
}

}  // namespace optic::preprocess
