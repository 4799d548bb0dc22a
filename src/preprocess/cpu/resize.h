// Resize + center crop + normalize + layout + dtype of one decoded image into one batch row.
// Only the pixels inside the crop window are computed. Separable: a vertical pass over the
// source columns the crop reads (contiguous, vectorized), then a horizontal pass per output row
// that normalizes and stores straight into the row.
// Threading: pure given its scratch; one scratch per thread.
#pragma once

#include <cstdint>
#include <vector>

#include "../geometry.h"
#include "optic/preprocess.h"

namespace optic::preprocess {

struct ResizeScratch {
  std::vector<float> vrow;  // one vertically filtered row, source columns the crop reads
};

// src: packed 8-bit pixels, `channels` 1 (gray, replicated to RGB) or 3 (RGB), src_w x src_h
// (possibly DCT-scaled). g: geometry from the image's full size. out: the batch row, layout and
// dtype from `o`. Resized values are kept in float (not rounded to 8 bits) before normalizing.
void ResizeCropNormalize(const uint8_t* src, int src_w, int src_h, int channels,
                         const ResizeGeometry& g, const PreprocessOptions& o,
                         ResizeScratch* scratch, void* out);

}  // namespace optic::preprocess
