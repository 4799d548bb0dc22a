// Models the server provides itself, named by `backend:` in config.pbtxt and needing no model
// file, for pipelines built in the repository config:
//   optic_preprocess  JPEG bytes -> image tensor: an identity model behind the config's
//                     optic_preprocessing block; its one output (dims [3,H,W] or [H,W,3], FP32 or
//                     FP16) is the decoded, resized, normalized image batch.
//   optic_average     N inputs of one FP32 shape -> their element-wise mean (averaging the
//                     outputs of several classifiers in an ensemble).
// Ownership/threading: plain optic::Model instances, run by the batcher like any other.
// Failure: a config they cannot serve is kInvalidArgument at load, naming the field.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model_config.h"
#include "optic/backend.h"

namespace optic::server {

bool IsBuiltinBackend(const std::string& backend);

// `count` instances for a built-in backend's config.
Status CreateBuiltinInstances(const std::string& backend, const inference::ModelConfig& config,
                              size_t count, std::vector<std::unique_ptr<Model>>* out);

}  // namespace optic::server
