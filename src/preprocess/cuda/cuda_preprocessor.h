// The GPU Preprocessor: nvJPEG batched decode (hardware engines where present), per-image
// fallback to the default nvJPEG backend and then to the CPU decoder, and one fused kernel
// (resize_kernel.h) writing the whole batch into the caller's device tensor on one stream.
// Threading and failure: see Preprocessor in include/optic/preprocess.h. When Run gets a stream
// it enqueues and returns without waiting (the next Run waits for the previous one's staging
// buffers); last_timings() is filled only for Runs on the preprocessor's own stream.
#pragma once

#include <memory>

#include "optic/preprocess.h"

namespace optic::preprocess {

Status CreateCudaPreprocessor(const PreprocessOptions& options, int device,
                              std::unique_ptr<Preprocessor>* out);

}  // namespace optic::preprocess
