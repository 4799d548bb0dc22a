#include "iree_compiler.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cache/cache.h"

namespace optic::iree_backend {
namespace {

namespace fs = std::filesystem;

const cache::CompileScript& Script() {
  static const cache::CompileScript script{OPTIC_IREE_PYTHON, OPTIC_IREE_COMPILE_SCRIPT,
                                           "run scripts/setup.sh: it installs iree-base-compiler"};
  return script;
}

std::string ShapeText(const Shape& s) {
  std::string text;
  for (size_t i = 0; i < s.size(); ++i) text += (i ? "x" : "") + std::to_string(s[i]);
  return text;
}

}  // namespace

Status ReadArtefact(const std::string& vmfb, Artefact* out, bool allow_missing_params) {
  const fs::path json_path = fs::path(vmfb).replace_extension(".json");
  std::error_code ec;
  if (!fs::is_regular_file(json_path, ec)) {
    return Status::InvalidArgument("iree: '" + vmfb + "' has no compile record '" +
                                   json_path.string() + "' beside it (optic_iree_compile.py "
                                   "writes one next to every module it compiles)");
  }
  try {
    const nlohmann::json j = nlohmann::json::parse(cache::ReadAll(json_path.string()));
    OPTIC_RETURN_IF_ERROR(cache::ParseTensorInfos(j.at("inputs"), &out->inputs));
    OPTIC_RETURN_IF_ERROR(cache::ParseTensorInfos(j.at("outputs"), &out->outputs));
    out->entry = j.at("entry").get<std::string>();
    out->target = j.at("target").get<std::string>();
    out->precision = j.at("precision").get<std::string>();
    out->compile_s = j.value("compile_s", -1.0);
    out->declared_inputs = out->inputs;
    out->declared_outputs = out->outputs;
    if (j.contains("declared")) {
      OPTIC_RETURN_IF_ERROR(cache::ParseTensorInfos(j["declared"].at("inputs"), &out->declared_inputs));
      OPTIC_RETURN_IF_ERROR(cache::ParseTensorInfos(j["declared"].at("outputs"), &out->declared_outputs));
    }
    out->param_map_json.clear();
    if (j.contains("param_map") && j["param_map"].is_array()) out->param_map_json = j["param_map"].dump();
    out->params.clear();
    if (j.contains("params") && j["params"].is_string() && !allow_missing_params) {
      out->params = (fs::path(vmfb).parent_path() / j["params"].get<std::string>()).string();
      if (!fs::is_regular_file(out->params, ec)) {
        return Status::InvalidArgument("iree: '" + vmfb + "' takes its weights from '" +
                                       out->params + "', which does not exist");
      }
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument("iree: cannot read the compile record '" + json_path.string() +
                                   "' (" + e.what() + "); delete it to compile again");
  }
  out->vmfb = vmfb;
  return Status::OK();
}

Status Describe(const CompileSettings& s, std::vector<TensorInfo>* inputs,
                std::vector<TensorInfo>* outputs) {
  const fs::path dir = fs::path(s.cache_root) / "iree";
  const fs::path info = dir / (cache::Sha256Hex(s.onnx_sha256 + "\nio\n" + Script().Hash()) + ".io.json");
  const std::string what = "iree: cannot load '" + s.onnx_path + "'";
  std::error_code ec;
  if (!fs::is_regular_file(info, ec)) {
    OPTIC_RETURN_IF_ERROR(cache::RunCompileScript(Script(), {"describe", s.onnx_path, info.string()}, dir.string(), what));
  }
  try {
    const nlohmann::json j = nlohmann::json::parse(cache::ReadAll(info.string()));
    OPTIC_RETURN_IF_ERROR(cache::ParseTensorInfos(j.at("inputs"), inputs));
    OPTIC_RETURN_IF_ERROR(cache::ParseTensorInfos(j.at("outputs"), outputs));
  } catch (const std::exception& e) {
    return Status::Internal(what + ": cannot read '" + info.string() + "' (" + e.what() +
                            "); delete it to describe the file again");
  }
  return Status::OK();
}

Status GetArtefact(const CompileSettings& s, const std::vector<TensorInfo>& shapes, Artefact* out) {
  std::vector<std::string> shape_args;
  std::string shape_key;
  for (const TensorInfo& t : shapes) {
    shape_args.push_back("--shape");
    shape_args.push_back(t.name + "=" + ShapeText(t.shape));
    shape_key += t.name + "=" + ShapeText(t.shape) + "\n";
  }
  const std::string where = s.target == "cuda" ? "cuda " + s.cuda_arch : "llvm-cpu host\n" + cache::HostCpu();
  const std::string key = cache::Sha256Hex(s.onnx_sha256 + "\n" + where + "\nopt=" + s.opt_level +
                                 "\nprecision=" + s.precision + "\nparams=" +
                                 (s.external_params ? "external" : "inline") + "\n" + shape_key +
                                 "iree-base-compiler " + OPTIC_IREE_COMPILER_VERSION + "\n" +
                                 Script().Hash());
  const fs::path dir = fs::path(s.cache_root) / "iree";
  const fs::path vmfb = dir / (key + ".vmfb"), info = dir / (key + ".json");
  std::error_code ec;
  out->cache_hit = fs::is_regular_file(vmfb, ec) && fs::is_regular_file(info, ec);
  if (!out->cache_hit) {
    std::vector<std::string> args = {"compile", s.onnx_path, vmfb.string(), "--target", s.target,
                                     "--opt", s.opt_level, "--precision", s.precision,
                                     "--cuda-arch", s.cuda_arch, "--params",
                                     s.external_params ? "external" : "inline"};
    args.insert(args.end(), shape_args.begin(), shape_args.end());
    OPTIC_RETURN_IF_ERROR(cache::RunCompileScript(Script(), args, dir.string(), "iree: cannot compile '" + s.onnx_path + "'"));
  }
  const bool hit = out->cache_hit;
  OPTIC_RETURN_IF_ERROR(ReadArtefact(vmfb.string(), out)
                            .Prefixed("iree: cannot compile '" + s.onnx_path + "'"));
  out->cache_hit = hit;
  return Status::OK();
}

}  // namespace optic::iree_backend
