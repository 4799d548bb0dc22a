// Resize/crop geometry and separable filter coefficients, shared by the CPU and the CUDA paths so
// both compute the same output pixels from the same source footprint.
// Pure functions; thread-safe.
#pragma once

#include <vector>

#include "optic/preprocess.h"

namespace optic::preprocess {

// Where the crop window sits in the resized image. The resized size is computed from the
// image's full size (from the header), never from a DCT-scaled decode, so scaling the decode does
// not move the crop.
struct ResizeGeometry {
  int resized_w = 0, resized_h = 0;
  int crop_x = 0, crop_y = 0, crop_w = 0, crop_h = 0;
};

// torchvision conventions: Resize(s) sets the shorter side to s and the longer to
// int(s * long / short); CenterCrop puts the window at int(round((size - crop) / 2)) (round half
// to even, like Python's round).
ResizeGeometry ComputeGeometry(const PreprocessOptions& o, int width, int height);

// Coefficients of one axis for output indices [out_begin, out_begin + n) of a resize from
// in_size to out_size. Output i reads inputs [start[i], start[i] + count[i]) with weights
// weights[i * taps + k]; weights of one output sum to 1.
struct AxisCoeffs {
  int taps = 0;
  std::vector<int> start, count;
  std::vector<float> weights;
  int min_input() const;  // first input any output reads
  int max_input() const;  // one past the last
};
// Pillow's precompute_coeffs: kBilinear uses a triangle of support 1 at any scale; kAntialias
// widens it by the downscale factor; kArea is a box of width `scale`.
AxisCoeffs ComputeAxisCoeffs(ResizeFilter filter, int in_size, int out_size, int out_begin, int n);

// Smallest DCT scaling factor 1/2, 1/4 or 1/8 whose decoded size is still at least min_w x min_h
// (1/1 when none fits). Writes the decoded size.
void ChooseDctScale(int width, int height, int min_w, int min_h, int* num, int* denom,
                    int* scaled_w, int* scaled_h);

}  // namespace optic::preprocess
