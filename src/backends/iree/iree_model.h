// A model loaded by the iree backend: compiled modules (iree_compiler.h) run by IREE's runtime
// through its Python bindings in the process's embedded CPython (src/backends/python), one
// optic_iree.Program per input shape.
//
// Shapes: IREE's kernels are built for static shapes, so each distinct set of input shapes is its
// own module: the load compiles (or finds) the one for options.batch_size where the batch is the
// only variable axis, and an Execute with other shapes compiles that one first (seconds; cached
// like the first). A .vmfb given directly runs at the shapes it was compiled for only.
// Execute: host inputs are wrapped as read-only numpy arrays without a copy, the GIL is taken
// for that one call, Program.run copies them to the device, calls the entry function (IREE
// releases the GIL while it runs) and brings the outputs back as numpy arrays, which are copied
// into owning optic tensors (Python objects never live in a Tensor, whose destructor may run
// without the GIL).
// Phases (optic/phase_timing.h): h2d/compute/d2h as Program.run times them on the host around
// synchronizing calls, and bridge_ms: Execute's wall time minus Program.run's own (GIL, wrapping,
// result conversion).
// Threading: as optic::Model (one Execute at a time per Model); different Models may execute at
// once. The destructor takes the GIL.
#pragma once

#include <pybind11/pybind11.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "iree_compiler.h"
#include "optic/backend.h"
#include "optic/phase_timing.h"

namespace optic::iree_backend {

struct RunSettings {
  std::string device_kind = "cpu";  // "cpu" (local-task driver) or "cuda"
  int device_index = 0;
  int threads = 0;  // local-task workers; 0 = IREE's choice
};

// Imports optic_iree.py into the embedded Python (once per process).
Status ImportRuntime(pybind11::module_** out);

class IreeModel final : public Model, public PhaseReporting {
 public:
  // From an ONNX file: describes it and compiles (or finds) the module for options.batch_size.
  static Status CreateFromOnnx(const CompileSettings& compile, const RunSettings& run,
                               int batch_size, std::unique_ptr<Model>* out);
  // From a compiled .vmfb with its compile record beside it, which must name `precision` and the
  // target of run.device_kind.
  static Status CreateFromModule(const std::string& vmfb, const RunSettings& run,
                                 const std::string& precision, std::unique_ptr<Model>* out);
  // From modules compiled elsewhere with external parameters (scripts/gpu/fetch_iree_cuda.sh):
  // <dir>/<name>-<precision>-b<batch>.vmfb with its record, one per batch size, whose weights are
  // built from `onnx_path`'s initializers at load; no compiler runs.
  static Status CreateFromModules(const std::string& dir, const std::string& name,
                                  const std::string& onnx_path, const std::string& precision,
                                  const RunSettings& run, int batch_size,
                                  std::unique_ptr<Model>* out);
  ~IreeModel() override;

  const std::vector<TensorInfo>& inputs() const override { return inputs_; }
  const std::vector<TensorInfo>& outputs() const override { return outputs_; }
  Status Execute(const std::vector<Tensor>& inputs, std::vector<Tensor>* outputs) override;
  bool LastPhases(ExecutePhases* out) const override;

  // Whether the module behind the load came from the cache (for tests and logs).
  bool loaded_from_cache() const { return loaded_from_cache_; }

 private:
  struct Program {
    pybind11::object program, run;
    std::vector<TensorInfo> outputs;  // at the compiled shapes
  };
  IreeModel(const CompileSettings& compile, const RunSettings& run, bool from_onnx)
      : compile_(compile), run_settings_(run), from_onnx_(from_onnx) {}
  Status ProgramFor(const std::vector<TensorInfo>& shapes, Program** out);
  Status Start(const Artefact& artefact, const std::string& key);
  Status ModuleFor(const std::vector<TensorInfo>& shapes, Artefact* out) const;

  CompileSettings compile_;
  RunSettings run_settings_;
  bool from_onnx_ = true;
  std::string modules_dir_, module_name_, precision_;  // CreateFromModules
  std::vector<TensorInfo> inputs_, outputs_;
  std::map<std::string, std::unique_ptr<Program>> programs_;  // by input shapes
  bool loaded_from_cache_ = false;
  ExecutePhases last_;
  bool last_ok_ = false;
};

}  // namespace optic::iree_backend
