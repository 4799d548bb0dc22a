// A model loaded by the xla backend: a handle on an optic_xla.Program (Python) that holds the
// weights on the device and the jit-compiled graph.
//
// Execute: the fp32 host inputs are wrapped as read-only numpy arrays without a copy (buffer
// protocol), the GIL is taken for that one call, Program.run does device_put -> the jit function
// -> block_until_ready -> numpy, and the fp32 outputs are copied into owning optic tensors
// (a copy keeps Python objects out of Tensor holders, whose destructor may run on any thread
// without the GIL; outputs are logits, a few KB).
// Phases (optic/phase_timing.h): h2d/compute/d2h as Program.run times them on the host around
// synchronizing calls, and bridge_ms: the C++ Execute's wall time minus Program.run's own, i.e.
// what the embedded-Python bridge costs per call (GIL, argument wrapping, result conversion).
// Threading: as optic::Model (one Execute at a time per model); the destructor takes the GIL.
#pragma once

#include <pybind11/pybind11.h>

#include <vector>

#include "optic/backend.h"
#include "optic/phase_timing.h"

namespace optic::xla {

class XlaModel final : public Model, public PhaseReporting {
 public:
  // Takes over `program` (a Program instance); call with the GIL held.
  static Status Create(pybind11::object program, std::unique_ptr<Model>* out);
  ~XlaModel() override;

  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override;
  bool LastPhases(ExecutePhases* out) const override;

 private:
  explicit XlaModel(pybind11::object program) : program_(std::move(program)) {}
  Status Describe();

  pybind11::object program_;
  pybind11::object run_;  // program_.run, looked up once
  std::vector<TensorInfo> inputs_, outputs_;
  ExecutePhases last_;
  bool last_ok_ = false;
};

}  // namespace optic::xla
