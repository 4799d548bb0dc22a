// Resize + center crop + normalize + layout + dtype of one decoded image into one batch row.
// Only the pixels inside the crop window are computed. Separable: per output row, a vertical pass
// over the source columns the crop reads (contiguous, vectorized), then a horizontal pass per
// channel with a fixed number of taps per output (zero-padded), written as index/weight tables so
// the compiler turns it into vector gathers; normalization is fused into the store.
// The tables depend only on the source size, the geometry and the filter, so they are cached in
// the scratch and reused while consecutive images have the same size (the common case in a
// batch).
// Threading: pure given its scratch; one scratch per thread.
#pragma once

#include <cstdint>
#include <vector>

#include "../geometry.h"
#include "optic/preprocess.h"

namespace optic::preprocess {

// Per-image tables for one (source size, geometry, filter). Built by ResizeCropNormalize.
struct ResizePlan {
  int src_w = -1, src_h = -1, channels = 0;
  ResizeGeometry g;
  ResizeFilter filter = ResizeFilter::kBilinear;
  AxisCoeffs cy;            // vertical taps per output row (variable count)
  int y0 = 0, y1 = 0;       // source rows [y0, y1) feed the crop
  int x0 = 0, cols = 0;     // source columns [x0, x0 + cols) feed the crop
  int tx = 0;               // horizontal taps per output column (fixed; padding weights are 0)
  std::vector<int32_t> gx;  // [tx][crop_w]: float offset of tap k in the vertical row, channel 0
  std::vector<float> wx;    // [tx][crop_w]
};

struct ResizeScratch {
  ResizePlan plan;
  std::vector<float> vrow;  // one vertically filtered row, source columns the crop reads
  std::vector<float> tmp;   // one channel of one output row (NHWC and fp16; NCHW fp32 in place)
  std::vector<float> hbuf;  // horizontal-first order: the filtered source rows, [row][c][x]
};

// Decoded 8-bit pixels, packed, `channels` 1 (gray, replicated to RGB) or 3 (RGB). The decoded
// image is width x height (possibly DCT-scaled); `data` may hold only a window of it: it points
// at pixel (x0, y0) and rows are `stride` bytes apart. The window must cover ResizeSourceWindow.
struct SourceImage {
  const uint8_t* data = nullptr;
  size_t stride = 0;
  int width = 0, height = 0, channels = 3;
  int x0 = 0, y0 = 0;
};

// g: geometry from the image's full size. out: the batch row, layout and dtype from `o`. Resized
// values are kept in float (not rounded to 8 bits) before normalizing.
void ResizeCropNormalize(const SourceImage& src, const ResizeGeometry& g,
                         const PreprocessOptions& o, ResizeScratch* scratch, void* out);

// The source window [x0, x1) x [y0, y1) that ResizeCropNormalize reads for this geometry, for a
// decoder that can skip the rest.
void ResizeSourceWindow(int src_w, int src_h, const ResizeGeometry& g, ResizeFilter filter,
                        int* x0, int* y0, int* x1, int* y1);

}  // namespace optic::preprocess
