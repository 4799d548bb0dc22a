#include "instance_placement.h"

namespace optic::server {

Status PlaceInstances(const std::string& model, const inference::ModelConfig& config,
                      const VisibleGpus& visible, std::vector<InstancePlacement>* out,
                      inference::ModelConfig* normalized) {
  using Group = inference::ModelInstanceGroup;
  inference::ModelConfig norm = config;
  std::vector<InstancePlacement> placed;
  for (int gi = 0; gi < norm.instance_group_size(); ++gi) {
    Group* g = norm.mutable_instance_group(gi);
    const std::string group = g->name().empty() ? model + "_" + std::to_string(gi) : g->name();
    const std::string what = "instance_group '" + group + "' of model '" + model + "'";
    if (g->count() < 0) {
      return Status::InvalidArgument(what + " has count " + std::to_string(g->count()) +
                                     "; count is the number of instances per device, >= 1");
    }
    const int count = g->count() > 0 ? g->count() : 1;
    if (g->kind() == Group::KIND_AUTO) {
      g->set_kind(g->gpus_size() > 0 ? Group::KIND_GPU : Group::KIND_CPU);
    }
    std::vector<Device> devices;
    if (g->kind() == Group::KIND_GPU) {
      if (visible.count == 0) {
        return Status::UnsupportedHardware(
            what + " is KIND_GPU" +
            (g->gpus_size() > 0 ? " (gpus [" + std::to_string(g->gpus(0)) + (g->gpus_size() > 1 ? ", ...])" : "])")
                                : std::string()) +
            " but no GPU is visible to this process (" + visible.reason + "; " +
            CudaVisibleDevicesNote() + "); use kind: KIND_CPU to serve it on the CPU");
      }
      if (g->gpus_size() == 0) {
        for (int k = 0; k < visible.count; ++k) g->add_gpus(k);
      }
      for (int id : g->gpus()) {
        const Device d{DeviceType::kCUDA, id};
        if (id < 0) {
          return Status::InvalidArgument(what + " lists gpu " + std::to_string(id) +
                                         "; GPU indices count from 0");
        }
        if (Status s = CheckDeviceVisible(d, visible); !s.ok()) {
          return Status(s.code(), what + " lists gpu " + std::to_string(id) + ": " + s.message());
        }
        devices.push_back(d);
      }
    } else {
      if (g->gpus_size() > 0) {
        return Status::InvalidArgument(what + " is " + Group::Kind_Name(g->kind()) +
                                       " but lists gpus; gpus belong to kind: KIND_GPU");
      }
      devices.push_back(Device{});
    }
    // Triton's order and names: for each of `count`, one instance per device, named after the
    // group ("<group>_<c>" when count > 1); an idle-first batcher then alternates devices.
    for (int c = 0; c < count; ++c) {
      const std::string name = count > 1 ? group + "_" + std::to_string(c) : group;
      for (const Device& d : devices) placed.push_back({name, d});
    }
  }
  if (placed.empty()) placed.push_back({model, Device{}});
  *out = std::move(placed);
  if (normalized) *normalized = std::move(norm);
  return Status::OK();
}

}  // namespace optic::server
