// Optional interface: where the time of a Model's last Execute went on an accelerator.
//
// A Model that copies inputs to a device, computes there and copies outputs back may also derive
// from PhaseReporting; callers find it with dynamic_cast<const PhaseReporting*>(model) and must
// work without it (CPU backends do not implement it). The phases are measured with device events
// on the model's own stream, so they are device time, not host time: host-side work before the
// upload (e.g. copying into pinned staging memory) is in neither phase but is in the caller's
// wall-clock latency.
// Threading: call LastPhases from the thread that called Execute, after Execute returned.
#pragma once

namespace optic {

struct ExecutePhases {
  double h2d_ms = -1;      // host-to-device copy of the inputs (with their dtype/layout conversion)
  double compute_ms = -1;  // the forward pass (or the replay of its CUDA graph)
  double d2h_ms = -1;      // device-to-host copy of the outputs (with the conversion to fp32)
  // Per-call cost of a language bridge around the framework (the xla backend's embedded Python:
  // GIL, argument wrapping, result conversion), host wall time; -1 for backends without one.
  // A backend without device events may time h2d/compute/d2h on the host around synchronizing
  // calls instead (the xla backend does; its header says so).
  double bridge_ms = -1;
};

class PhaseReporting {
 public:
  virtual ~PhaseReporting() = default;
  // False when the last Execute failed or nothing has run yet; *out is then untouched.
  virtual bool LastPhases(ExecutePhases* out) const = 0;
};

}  // namespace optic
