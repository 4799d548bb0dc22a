// The CPU Preprocessor: libjpeg-turbo decode (DCT-scaled when the target allows) and the
// separable resize of resize.h, one image per task on a ThreadPool.
// Threading and failure: see Preprocessor in include/optic/preprocess.h.
#pragma once

#include <memory>

#include "optic/preprocess.h"

namespace optic::preprocess {

Status CreateCpuPreprocessor(const PreprocessOptions& options, std::unique_ptr<Preprocessor>* out);

// Checks a batch tensor against the options for n images (device, dtype, shape).
Status CheckBatch(const PreprocessOptions& o, const Tensor& batch, size_t n, Device device);

}  // namespace optic::preprocess
