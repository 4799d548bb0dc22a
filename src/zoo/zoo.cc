#include "optic/zoo.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace optic {

namespace fs = std::filesystem;
using nlohmann::json;

std::string DefaultZooDir() {
  const char* env = std::getenv("OPTIC_MODELS");
  return env && *env ? env : "models";
}

namespace {

Status ParseInfo(const json& j, const std::string& where, TensorInfo* info) {
  if (!j.is_object() || !j.contains("shape") || !j["shape"].is_array()) {
    return Status::InvalidArgument(where + ": needs an object with a shape array");
  }
  info->name = j.value("name", "");
  info->shape = j["shape"].get<Shape>();
  return ParseDType(j.value("dtype", "fp32"), &info->dtype).Prefixed(where);
}

// The file extension each format's files carry; a backend reads a format when its capabilities
// list the extension.
std::string ExtensionOf(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? "" : name.substr(dot);
}

}  // namespace

Status Zoo::Open(const std::string& dir, Zoo* out) {
  const fs::path manifest = fs::path(dir) / "manifest.json";
  std::ifstream in(manifest);
  if (!in) {
    return Status::NotFound("model zoo manifest '" + manifest.string() +
                            "' not found; create it with: optic models export --out " + dir);
  }
  Zoo zoo;
  zoo.dir_ = fs::absolute(dir).lexically_normal().string();
  try {
    const json j = json::parse(in);
    for (const auto& [name, m] : j.at("models").items()) {
      ZooModel model;
      model.name = name;
      const std::string where = manifest.string() + ": model " + name;
      OPTIC_RETURN_IF_ERROR(ParseInfo(m.at("input"), where + " input", &model.input));
      OPTIC_RETURN_IF_ERROR(ParseInfo(m.at("output"), where + " output", &model.output));
      model.params = m.value("params", int64_t{0});
      for (const auto& [format, f] : m.at("files").items()) {
        ZooFile file;
        file.path = (fs::path(zoo.dir_) / f.at("path").get<std::string>()).string();
        file.sha256 = f.value("sha256", "");
        file.bytes = f.value("bytes", int64_t{0});
        model.files[format] = file;
      }
      zoo.models_[name] = std::move(model);
    }
  } catch (const json::exception& e) {
    return Status::InvalidArgument("model zoo manifest '" + manifest.string() +
                                   "' is malformed: " + e.what());
  }
  *out = std::move(zoo);
  return Status::OK();
}

std::vector<std::string> Zoo::ModelNames() const {
  std::vector<std::string> names;
  for (const auto& [n, m] : models_) names.push_back(n);
  return names;
}

Status Zoo::Find(const std::string& name, const ZooModel** out) const {
  auto it = models_.find(name);
  if (it == models_.end()) {
    std::string known;
    for (const auto& [n, m] : models_) known += (known.empty() ? "" : ", ") + n;
    return Status::NotFound("model '" + name + "' is not in the zoo at " + dir_ +
                            " (has: " + known + ")");
  }
  *out = &it->second;
  return Status::OK();
}

Precision FormatPrecision(const std::string& format) {
  for (Precision p : {Precision::kINT8, Precision::kFP16, Precision::kBF16, Precision::kTF32}) {
    const std::string tag = std::string("-") + PrecisionName(p);
    if (format.size() > tag.size() &&
        format.compare(format.size() - tag.size(), tag.size(), tag) == 0) {
      return p;
    }
  }
  return Precision::kFP32;
}

Status Zoo::FileFor(const ZooModel& model, const Backend& backend, Precision precision,
                    std::string* path) const {
  const Capabilities caps = backend.capabilities();
  const auto& exts = caps.file_extensions;
  auto reads = [&](const ZooFile& f) {
    return std::find(exts.begin(), exts.end(), ExtensionOf(f.path)) != exts.end();
  };
  // A file exported in the precision asked for wins, and of those one made by the backend's own
  // tools (openvino-int8 for openvino); otherwise the fp32 file, which backends run at fp16 or
  // bf16 by converting it at load. int8, and the precisions a backend runs only from their own
  // file, take no fp32 file: it would run fp32 under their name.
  const auto& own_file = caps.precisions_from_file;
  const bool needs_own = precision == Precision::kINT8 ||
      std::find(own_file.begin(), own_file.end(), precision) != own_file.end();
  const ZooFile* own = nullptr;
  const ZooFile* tagged = nullptr;
  const ZooFile* fp32 = nullptr;
  std::string formats;
  for (const auto& [format, f] : model.files) {
    formats += (formats.empty() ? "" : ", ") + format;
    if (!reads(f)) continue;
    const Precision p = FormatPrecision(format);
    if (p == precision && format.rfind(backend.name() + "-", 0) == 0 && !own) own = &f;
    if (p == precision && !tagged) tagged = &f;
    if (p == Precision::kFP32 && !fp32) fp32 = &f;
  }
  const ZooFile* pick = own ? own : tagged ? tagged : needs_own ? nullptr : fp32;
  if (pick) {
    *path = pick->path;
    return Status::OK();
  }
  const std::string p = PrecisionName(precision);
  const std::string formats_for = precision == Precision::kINT8   ? "onnx-int8,openvino-int8"
                                  : precision == Precision::kFP16 ? "onnx-fp16"
                                                                  : "";
  return Status::Unsupported(
      backend.name() + ": the zoo has no " + (needs_own ? p + " " : "") + "file of model '" +
      model.name + "' in a format it reads (zoo has: " + formats + ")" +
      (needs_own && !formats_for.empty()
           ? "; export one: optic models export --models " + model.name + " --formats " +
                 formats_for
           : ""));
}

}  // namespace optic
