// Where a model's instances run: config.pbtxt's instance_group entries placed on devices with
// Triton's semantics.
//   KIND_GPU, gpus [a, b]: `count` instances on each listed GPU (count 2, gpus [0, 1]: four
//     instances, two on cuda:0 and two on cuda:1);
//   KIND_GPU without gpus: `count` instances on every GPU this process sees;
//   KIND_CPU, KIND_MODEL: `count` instances on the CPU (a gpus list is an error);
//   KIND_AUTO: KIND_GPU when it lists gpus, else KIND_CPU;
//   no instance_group: one instance on the CPU.
// Order: Triton's, for each of `count` one instance per listed device (count 2, gpus [0, 1]:
// cuda:0, cuda:1, cuda:0, cuda:1).
// GPU indices are CUDA's after CUDA_VISIBLE_DEVICES (optic/device.h); one that is not visible,
// or KIND_GPU where no GPU is visible, is refused at load with a message naming the group, the
// index, how many GPUs are visible and CUDA_VISIBLE_DEVICES.
// Thread safety: free functions on values.
#pragma once

#include <string>
#include <vector>

#include "model_config.h"
#include "optic/device.h"
#include "optic/status.h"

namespace optic::server {

struct InstancePlacement {
  std::string name;  // Triton's instance name: the group's, "<group>_<c>" when its count > 1
  Device device;
};

// Places every instance of `config` (of model `model`, for messages) against `visible`.
// `normalized` (may be null) gets `config` with each KIND_GPU group's gpus listed (every visible
// GPU where the config listed none) and KIND_AUTO resolved, as Triton serves it at .../config.
Status PlaceInstances(const std::string& model, const inference::ModelConfig& config,
                      const VisibleGpus& visible, std::vector<InstancePlacement>* out,
                      inference::ModelConfig* normalized);

}  // namespace optic::server
