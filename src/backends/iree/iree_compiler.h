// The iree backend's compile phase: an ONNX file becomes a .vmfb (IREE's bytecode module with its
// kernels), built by optic_iree_compile.py in a child process and cached.
//
// Cache: <cache folder>/iree/<key>.vmfb and <key>.json (inputs, outputs, entry function, flags,
// versions, compile seconds; <key>.irpa holds the weights where they are kept out of the module).
// The key is the sha256 of the ONNX file's bytes, the target (llvm-cpu with this host's CPU model
// and flags, or cuda with its sm_ architecture), the flags (optimisation level, precision,
// parameter placement), the batch the module is built for, the compiler's version and the
// compile script's own bytes; any change compiles anew, and a hit starts no compiler at all.
// The cache folder is cache::CacheRoot(LoadOptions::cache_dir) (src/cache/cache.h).
// Threading: every function may be called from any thread, also concurrently; two compiles of the
// same key race harmlessly (each writes through a temporary name and renames).
// Failure: a Status naming "iree", the file and the compiler's own reason; an operator IREE cannot
// import or compile is kUnsupported naming the operator where the compiler does.
#pragma once

#include <string>
#include <vector>

#include "optic/backend.h"

namespace optic::iree_backend {

struct CompileSettings {
  std::string onnx_path;
  std::string onnx_sha256;    // of the file's bytes (cache::Sha256File)
  std::string cache_root;     // the folder holding iree/
  std::string target = "llvm-cpu";  // or "cuda"
  std::string cuda_arch = "sm_80";  // IREE 3.13 has no sm_90 CUDA target (docs/backends.md)
  std::string opt_level = "O2";     // --iree-opt-level
  std::string precision = "fp32";   // fp16: the graph converted to fp16 before the import
  bool external_params = false;     // weights in <key>.irpa instead of inside the module
};

// A compiled module and what it expects.
struct Artefact {
  std::string vmfb;    // path of the module
  std::string params;  // path of its parameter archive, empty when the weights are inside
  std::string entry;   // the function to call
  std::string target, precision;  // as compiled: llvm-cpu or cuda; fp32 or fp16
  std::vector<TensorInfo> inputs, outputs;  // at the compiled shapes
  std::vector<TensorInfo> declared_inputs, declared_outputs;  // as the ONNX graph declares them
  // With external parameters: [key, initializer name, dtype, dims] per parameter (JSON), so the
  // weights can come from an ONNX file of the same graph instead of the archive.
  std::string param_map_json;
  double compile_s = -1;  // the compiler's time (also for a hit: as recorded when it compiled)
  bool cache_hit = false;
};

// The module for inputs of the given shapes (every variable axis set), from the cache or compiled
// now.
Status GetArtefact(const CompileSettings& settings, const std::vector<TensorInfo>& shapes,
                   Artefact* out);

// Reads a compile record (<name>.json beside a .vmfb) into `out` (vmfb and params resolved
// beside it). Used for the cache and for a .vmfb file given directly. `allow_missing_params`:
// the weights will come from an ONNX file, so the archive need not be there.
Status ReadArtefact(const std::string& vmfb, Artefact* out, bool allow_missing_params = false);

// The ONNX graph's declared inputs and outputs (-1 for a variable axis), read by the compile
// script without compiling; cached by the file's hash like a module.
Status Describe(const CompileSettings& settings, std::vector<TensorInfo>* inputs,
                std::vector<TensorInfo>* outputs);

}  // namespace optic::iree_backend
