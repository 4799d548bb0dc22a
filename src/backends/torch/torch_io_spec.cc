#include "torch_io_spec.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace optic::torch_backend {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Status ParseInfo(const json& j, const std::string& where, TensorInfo* info) {
  if (!j.is_object() || !j.contains("shape") || !j["shape"].is_array()) {
    return Status::InvalidArgument(where + ": needs an object with a \"shape\" array");
  }
  info->name = j.value("name", "");
  info->shape = j["shape"].get<Shape>();
  if (info->shape.empty()) return Status::InvalidArgument(where + ": shape has no batch axis");
  return ParseDType(j.value("dtype", "fp32"), &info->dtype).Prefixed(where);
}

Status ParseList(const json& j, const std::string& where, std::vector<TensorInfo>* out) {
  if (!j.is_array() || j.empty()) {
    return Status::InvalidArgument(where + ": needs a non-empty array");
  }
  for (size_t i = 0; i < j.size(); ++i) {
    TensorInfo info;
    OPTIC_RETURN_IF_ERROR(ParseInfo(j[i], where + "[" + std::to_string(i) + "]", &info));
    out->push_back(std::move(info));
  }
  return Status::OK();
}

bool SameFile(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  const bool same = fs::equivalent(a, b, ec);
  return !ec && same;
}

Status FromSidecar(const fs::path& sidecar, IoSpec* spec) {
  std::ifstream in(sidecar);
  if (!in) return Status::InvalidArgument("cannot read '" + sidecar.string() + "'");
  try {
    const json j = json::parse(in);
    const std::string where = sidecar.string();
    if (!j.is_object()) return Status::InvalidArgument(where + ": expected a JSON object");
    OPTIC_RETURN_IF_ERROR(ParseList(j.value("inputs", json()), where + ": inputs", &spec->inputs));
    OPTIC_RETURN_IF_ERROR(
        ParseList(j.value("outputs", json()), where + ": outputs", &spec->outputs));
  } catch (const json::exception& e) {
    return Status::InvalidArgument("'" + sidecar.string() + "' is malformed: " + e.what());
  }
  spec->found = true;
  spec->source = sidecar.string();
  return Status::OK();
}

Status FromManifest(const fs::path& manifest, const fs::path& model, IoSpec* spec) {
  std::ifstream in(manifest);
  if (!in) return Status::OK();  // no zoo around the file: not an error
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception&) {
    return Status::OK();  // not our manifest to judge; the zoo reports it when it opens it
  }
  if (!j.is_object() || !j.contains("models") || !j["models"].is_object()) return Status::OK();
  const fs::path dir = manifest.parent_path();
  for (const auto& [name, m] : j["models"].items()) {
    if (!m.is_object() || !m.contains("files") || !m["files"].is_object()) continue;
    for (const auto& [format, f] : m["files"].items()) {
      if (!f.is_object() || !f.contains("path") || !f["path"].is_string()) continue;
      if (!SameFile(dir / f["path"].get<std::string>(), model)) continue;
      const std::string where = manifest.string() + ": model " + name;
      TensorInfo input, output;
      try {
        OPTIC_RETURN_IF_ERROR(ParseInfo(m.value("input", json()), where + " input", &input));
        OPTIC_RETURN_IF_ERROR(ParseInfo(m.value("output", json()), where + " output", &output));
      } catch (const json::exception& e) {
        return Status::InvalidArgument(where + " is malformed: " + e.what());
      }
      spec->inputs = {input};
      spec->outputs = {output};
      spec->found = true;
      spec->source = manifest.string();
      return Status::OK();
    }
  }
  return Status::OK();
}

}  // namespace

Status FindIoSpec(const std::string& model_path, IoSpec* spec) {
  *spec = IoSpec();
  const fs::path model(model_path);
  std::error_code ec;
  const fs::path sidecar = model_path + ".json";
  if (fs::is_regular_file(sidecar, ec)) return FromSidecar(sidecar, spec);
  const fs::path parent = fs::absolute(model, ec).parent_path();
  if (ec || !parent.has_parent_path()) return Status::OK();
  return FromManifest(parent.parent_path() / "manifest.json", model, spec);
}

}  // namespace optic::torch_backend
