#include "optic/zoo.h"

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

Status Zoo::FileFor(const ZooModel& model, const Backend& backend, Precision precision,
                    std::string* path) const {
  const auto exts = backend.capabilities().file_extensions;
  auto reads = [&](const ZooFile& f) {
    return std::find(exts.begin(), exts.end(), ExtensionOf(f.path)) != exts.end();
  };
  // Quantized files are only for int8, and int8 takes only them.
  auto quantized = [](const std::string& format) {
    return format.find("int8") != std::string::npos;
  };
  std::string formats;
  for (const auto& [format, f] : model.files) {
    formats += (formats.empty() ? "" : ", ") + format;
    if (reads(f) && quantized(format) == (precision == Precision::kINT8)) {
      *path = f.path;
      return Status::OK();
    }
  }
  return Status::Unsupported(backend.name() + ": the zoo has no " +
                          (precision == Precision::kINT8 ? "int8 " : "") + "file of model '" +
                          model.name + "' in a format it reads (zoo has: " + formats + ")");
}

}  // namespace optic
