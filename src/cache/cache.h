// Content hashes, optic's cache folder, and compile scripts run as child processes: what every
// cache keyed by a model file's bytes shares (model-file conversion in src/zoo, the compiled
// artefacts of the tvm and iree backends).
// Threading: every function may be called from any thread, also concurrently.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "optic/backend.h"
#include "optic/status.h"

namespace optic::cache {

// sha256 of `data`, as 64 hex digits.
std::string Sha256Hex(const std::string& data);

// sha256 of the file's bytes, read in 1 MiB blocks; remembered per path while its modification
// time and size stay the same. NotFound names the path.
Status Sha256File(const std::string& path, std::string* hex);

// optic's cache folder: `cache_dir` when not empty (LoadOptions::cache_dir), else
// $XDG_CACHE_HOME/optic, else ~/.cache/optic (/tmp/.cache/optic without a HOME).
std::string CacheRoot(const std::string& cache_dir);

// This host's CPU model and feature flags (/proc/cpuinfo), for keys of code compiled for the
// host CPU, so a cache shared between machines never hands one CPU another's kernels.
const std::string& HostCpu();

// A compile script run as `python script ARGS...` in a child process (posix_spawn: callers are
// multi-threaded). Its exit codes: 0 ok, 2 the input is invalid, 3 the model uses something the
// compiler does not support, anything else a failure; the last line of its output is the reason.
struct CompileScript {
  std::string python;      // the interpreter
  std::string script;      // the script's path
  std::string setup_hint;  // what provides `python`, for when it cannot start

  // sha256 of the script's bytes and of onnx_script.py (which it imports): part of every cache key
  // of what it compiles, so an artefact of an older script is compiled anew.
  const std::string& Hash() const;
};

// Runs the script with `args`, its output into a log file in `dir` (created; the log is removed
// afterwards), and maps its exit code onto a Status (InvalidArgument, Unsupported, Internal,
// Unavailable when it cannot start) whose message is `what`: <the reason>.
Status RunCompileScript(const CompileScript& script, const std::vector<std::string>& args,
                        const std::string& dir, const std::string& what);

// Tensor descriptions as the compile scripts write them: [[name, dtype, [dims]], ...].
Status ParseTensorInfos(const nlohmann::json& list, std::vector<TensorInfo>* out);

// The whole file as bytes ("" when it cannot be read).
std::string ReadAll(const std::string& path);

}  // namespace optic::cache
