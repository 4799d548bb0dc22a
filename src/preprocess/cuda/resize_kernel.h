// The fused GPU kernel: resize (separable filter, coefficients computed on the host by
// geometry.h exactly as the CPU path uses them) + center crop + normalize + layout + dtype, for a
// whole batch in one launch, writing into the model's input buffer.
// Threading: launches on the given stream; the arrays must stay valid until the kernel ran.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace optic::preprocess {

// One image of the batch. Coefficient arrays live in one int and one float device buffer:
// ints[int_offset ...]: x_start[crop_w], x_count[crop_w], y_start[crop_h], y_count[crop_h];
// floats[float_offset ...]: x_weights[crop_w * taps_x], y_weights[crop_h * taps_y].
struct GpuJob {
  const uint8_t* src = nullptr;  // device, packed RGB
  int pitch = 0;                 // bytes per source row
  int taps_x = 0, taps_y = 0;
  int int_offset = 0, float_offset = 0;
  int ok = 0;  // 0: write a zero row (the image failed)
};

struct GpuNormalize {
  float mul[3], add[3];  // out = v * mul + add (v in 0..255)
};

// out: device batch base pointer, rows of 3 * crop_h * crop_w elements.
cudaError_t LaunchResizeNormalize(const GpuJob* jobs, int n, const int* ints, const float* floats,
                                  int crop_w, int crop_h, GpuNormalize norm, bool fp16, bool nchw,
                                  void* out, cudaStream_t stream);

}  // namespace optic::preprocess
