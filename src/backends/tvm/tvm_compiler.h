// The tvm backend's compile phase: an ONNX file becomes a shared library (.so) holding the Relax
// VM executable and its kernels, built by optic_tvm_compile.py in a child process and cached.
//
// Cache: <cache folder>/tvm/<key>.so and <key>.json (inputs, outputs, versions, compile time).
// The key is the sha256 of the ONNX file's bytes, the target (llvm -mcpu=native on this host's
// CPU model and flags), the tuning trials, the batch the library is built for ("dyn" = symbolic),
// and the TVM version; any change compiles anew, and a hit skips the compiler entirely.
// The cache folder is cache::CacheRoot(LoadOptions::cache_dir) (src/cache/cache.h).
// Threading: every function may be called from any thread, also concurrently; two compiles of the
// same key race harmlessly (each writes through a temporary name and renames).
// Failure: a Status naming "tvm", the file and the compiler's own reason.
#pragma once

#include <string>
#include <vector>

#include "optic/backend.h"

namespace optic::tvm_backend {

struct CompileSettings {
  std::string onnx_path;
  std::string onnx_sha256;  // of the file's bytes (cache::Sha256File)
  std::string cache_root;   // the folder holding tvm/ (cache::CacheRoot)
  int trials = 0;           // 0: TVM's default schedules; > 0: meta-schedule with this budget
};

struct Artefact {
  std::string library;  // path of the compiled .so
  std::vector<TensorInfo> inputs, outputs;
  bool cache_hit = false;
};

// The library for `batch` (0: a symbolic batch axis, one library for every batch size), from the
// cache or compiled now.
Status GetArtefact(const CompileSettings& settings, int batch, Artefact* out);

}  // namespace optic::tvm_backend
