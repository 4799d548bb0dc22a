#include "tvm_compiler.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cache/cache.h"

namespace optic::tvm_backend {
namespace {

namespace fs = std::filesystem;

Status ReadInfo(const fs::path& json_path, Artefact* out) {
  try {
    const nlohmann::json j = nlohmann::json::parse(cache::ReadAll(json_path.string()));
    OPTIC_RETURN_IF_ERROR(cache::ParseTensorInfos(j.at("inputs"), &out->inputs));
    OPTIC_RETURN_IF_ERROR(cache::ParseTensorInfos(j.at("outputs"), &out->outputs));
  } catch (const std::exception& e) {
    return Status::Internal("cannot read '" + json_path.string() + "' (" + e.what() +
                            "); delete it to compile again");
  }
  return Status::OK();
}

const cache::CompileScript& Script() {
  static const cache::CompileScript script{OPTIC_TVM_PYTHON, OPTIC_TVM_COMPILE_SCRIPT,
                                           "run scripts/setup.sh: it makes .deps/tvm-venv"};
  return script;
}

}  // namespace

Status GetArtefact(const CompileSettings& s, int batch, Artefact* out) {
  const std::string batch_tag = batch > 0 ? std::to_string(batch) : "dyn";
  const std::string key =
      cache::Sha256Hex(s.onnx_sha256 + "\nllvm -mcpu=native\n" + cache::HostCpu() + "\ntrials=" +
             std::to_string(s.trials) + "\nbatch=" + batch_tag + "\ntvm " + OPTIC_TVM_VERSION +
             "\ntvm-ffi " + OPTIC_TVM_FFI_VERSION + "\n" + Script().Hash());
  const fs::path dir = fs::path(s.cache_root) / "tvm";
  const fs::path library = dir / (key + ".so"), info = dir / (key + ".json");
  const std::string what = "tvm: cannot compile '" + s.onnx_path + "'";
  std::error_code ec;
  out->cache_hit = fs::is_regular_file(library, ec) && fs::is_regular_file(info, ec);
  if (!out->cache_hit) {
    OPTIC_RETURN_IF_ERROR(cache::RunCompileScript(
        Script(),
        {"compile", s.onnx_path, library.string(), "--batch", batch_tag, "--trials",
         std::to_string(s.trials), "--work-dir", (dir / (key + ".tuning")).string()},
        dir.string(), what));
  }
  out->library = library.string();
  return ReadInfo(info, out).Prefixed(what);
}

}  // namespace optic::tvm_backend
