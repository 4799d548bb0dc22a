#include "optic/model_source.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "cache/cache.h"
#include "optic/registry.h"
#include "convert.h"

namespace optic {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct FormatInfo {
  const char* format;
  std::vector<std::string> extensions;  // the first is what backends list in capabilities
};
const std::vector<FormatInfo>& Formats() {
  static const std::vector<FormatInfo> formats = {
      {"onnx", {".onnx"}},
      {"torchscript", {".pt", ".pth", ".ts", ".torchscript"}},
      {"openvino", {".xml"}},
      {"pt2", {".pt2"}},  // torch_export or aoti_package, by the archive's entries
  };
  return formats;
}

// What a backend lists in file_extensions for each format it reads natively.
std::vector<std::string> BackendExtensionsFor(const std::string& format) {
  if (format == "onnx") return {".onnx"};
  if (format == "torchscript") return {".pt", ".torchscript"};
  if (format == "openvino") return {".xml"};
  if (format == "aoti_package") return {".pt2"};
  return {};  // torch_export: no backend runs an exported program as it is
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

uint32_t Le32(const unsigned char* p) { return p[0] | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24; }
uint16_t Le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint64_t Le64(const unsigned char* p) { return Le32(p) | uint64_t(Le32(p + 4)) << 32; }

// The entry names of a zip archive's central directory (zip64 included).
Status ZipEntryNames(const std::string& path, std::vector<std::string>* names) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(0, std::ios::end);
  const int64_t size = in.tellg();
  const int64_t tail = std::min<int64_t>(size, 65536 + 22);
  std::string buf(static_cast<size_t>(tail), '\0');
  in.seekg(size - tail);
  in.read(buf.data(), tail);
  const auto* b = reinterpret_cast<const unsigned char*>(buf.data());
  int64_t eocd = -1;
  for (int64_t i = tail - 22; i >= 0; --i) {
    if (Le32(b + i) == 0x06054b50) { eocd = i; break; }
  }
  if (!in || eocd < 0) return Status::InvalidArgument("'" + path + "' is not a zip archive");
  uint64_t cd_size = Le32(b + eocd + 12), cd_offset = Le32(b + eocd + 16);
  if (cd_offset == 0xffffffffu && eocd >= 20 && Le32(b + eocd - 20) == 0x07064b50) {
    unsigned char rec[56];
    in.seekg(static_cast<std::streamoff>(Le64(b + eocd - 20 + 8)));
    in.read(reinterpret_cast<char*>(rec), sizeof rec);
    if (!in || Le32(rec) != 0x06064b50) return Status::InvalidArgument("'" + path + "': bad zip64 record");
    cd_size = Le64(rec + 40);
    cd_offset = Le64(rec + 48);
  }
  if (cd_offset + cd_size > static_cast<uint64_t>(size) || cd_size > (256u << 20)) {
    return Status::InvalidArgument("'" + path + "': zip central directory out of the file");
  }
  std::string cd(cd_size, '\0');
  in.seekg(static_cast<std::streamoff>(cd_offset));
  in.read(cd.data(), static_cast<std::streamsize>(cd_size));
  const auto* c = reinterpret_cast<const unsigned char*>(cd.data());
  for (size_t p = 0; in && p + 46 <= cd_size && Le32(c + p) == 0x02014b50;) {
    const size_t n = Le16(c + p + 28), extra = Le16(c + p + 30), comment = Le16(c + p + 32);
    if (p + 46 + n > cd_size) break;
    names->emplace_back(cd.data() + p + 46, n);
    p += 46 + n + extra + comment;
  }
  return Status::OK();
}

TensorInfo InfoFromJson(const json& j) {
  TensorInfo t;
  t.name = j.at("name").get<std::string>();
  (void)ParseDType(j.at("dtype").get<std::string>(), &t.dtype);
  t.shape = j.at("shape").get<Shape>();
  return t;
}
json InfoToJson(const TensorInfo& t) {
  return {{"name", t.name}, {"dtype", DTypeName(t.dtype)}, {"shape", t.shape}};
}

// Loads `path` with `backend_name` and writes {"inputs","outputs"} or {"code","error"}.
json DescribeHere(const std::string& backend_name, const std::string& path) {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Model> model;
  Status s = CreateBackend(backend_name, &backend);
  LoadOptions lo;
  lo.threads = 1;
  if (s.ok()) s = backend->Load(path, lo, &model);
  if (!s.ok()) return {{"code", static_cast<int>(s.code())}, {"error", s.message()}};
  json j = {{"inputs", json::array()}, {"outputs", json::array()}};
  for (const auto& t : model->inputs()) j["inputs"].push_back(InfoToJson(t));
  for (const auto& t : model->outputs()) j["outputs"].push_back(InfoToJson(t));
  return j;
}

// DescribeHere in a forked child, so a crash of the framework is a Status here.
json DescribeIsolated(const std::string& backend_name, const std::string& path) {
  int fds[2];
  if (pipe(fds) != 0) return DescribeHere(backend_name, path);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return DescribeHere(backend_name, path);
  }
  if (pid == 0) {
    close(fds[0]);
    const std::string text = DescribeHere(backend_name, path).dump();
    for (size_t done = 0; done < text.size();) {
      const ssize_t n = write(fds[1], text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char chunk[4096];
  for (ssize_t n; (n = read(fds[0], chunk, sizeof chunk)) > 0;) text.append(chunk, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  json j = json::parse(text, nullptr, false);
  if (WIFSIGNALED(status) || j.is_discarded()) {
    const std::string how = WIFSIGNALED(status) ? "crashed (signal " + std::to_string(WTERMSIG(status)) + ")"
                                                : "exited without describing it";
    return {{"code", static_cast<int>(StatusCode::kUnsupported)},
            {"error", backend_name + ": loading '" + path + "' " + how}};
  }
  return j;
}

}  // namespace

bool LooksLikeModelFile(const std::string& text) {
  std::error_code ec;
  if (text.find('/') != std::string::npos || fs::exists(text, ec)) return true;
  const std::string ext = Lower(fs::path(text).extension().string());
  for (const auto& f : Formats()) {
    if (std::find(f.extensions.begin(), f.extensions.end(), ext) != f.extensions.end()) return true;
  }
  return false;
}

Status DetectModelFormat(const std::string& path, std::string* format) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (!fs::exists(st)) return Status::NotFound("model file '" + path + "' does not exist");
  if (fs::is_directory(st)) {
    return Status::InvalidArgument("'" + path + "' is a directory, not a model file: pass the "
                                   "model file inside it (.onnx, .pt, .xml, .pt2)");
  }
  if (fs::file_size(path, ec) == 0) {
    return Status::InvalidArgument("model file '" + path + "' is empty (0 bytes): export it again");
  }
  const std::string ext = Lower(fs::path(path).extension().string());
  for (const auto& f : Formats()) {
    if (std::find(f.extensions.begin(), f.extensions.end(), ext) == f.extensions.end()) continue;
    *format = f.format;
    if (*format != std::string("pt2")) return Status::OK();
    std::vector<std::string> names;
    OPTIC_RETURN_IF_ERROR(ZipEntryNames(path, &names).Prefixed("a .pt2 file is a zip archive"));
    for (const auto& n : names) {
      if (n.find("/data/aotinductor/") != std::string::npos || n.rfind("data/aotinductor/", 0) == 0) {
        *format = "aoti_package";
        return Status::OK();
      }
    }
    for (const auto& n : names) {
      if (n.find("serialized_exported_program") != std::string::npos ||
          n.find("models/model.json") != std::string::npos) {
        *format = "torch_export";
        return Status::OK();
      }
    }
    return Status::InvalidArgument("'" + path + "' is a .pt2 archive with neither an AOTInductor "
                                   "package (data/aotinductor/) nor a torch.export program");
  }
  return Status::InvalidArgument("model file '" + path + "': unknown extension '" + ext +
                                 "' (optic reads .onnx, .pt/.pth/.ts/.torchscript, .xml, .pt2)");
}

Status FileSha256(const std::string& path, std::string* hex) {
  return cache::Sha256File(path, hex);
}

Status ResolveModel(const std::string& name, const ResolveOptions& options, Zoo* zoo,
                    ModelDescription* out) {
  *out = ModelDescription{};
  out->name = name;
  if (!LooksLikeModelFile(name)) {
    OPTIC_RETURN_IF_ERROR(Zoo::Open(options.zoo_dir.empty() ? DefaultZooDir() : options.zoo_dir, zoo)
                              .Prefixed("'" + name + "' is no model file, so it names a zoo model"));
    OPTIC_RETURN_IF_ERROR(zoo->Find(name, &out->zoo_model));
    out->from_zoo = true;
    out->inputs = {out->zoo_model->input};
    out->outputs = {out->zoo_model->output};
    for (const auto& [format, f] : out->zoo_model->files) out->files[format] = f.path;
    return Status::OK();
  }
  OPTIC_RETURN_IF_ERROR(DetectModelFormat(name, &out->source_format));
  out->source_file = fs::absolute(name).lexically_normal().string();
  if (out->source_format == "openvino") {
    const fs::path bin = fs::path(out->source_file).replace_extension(".bin");
    std::error_code ec;
    if (!fs::exists(bin, ec)) {
      return Status::InvalidArgument("OpenVINO IR '" + name + "' needs its weights file '" +
                                     bin.string() + "' next to it");
    }
  }
  OPTIC_RETURN_IF_ERROR(FileSha256(out->source_file, &out->source_sha256));
  out->files[out->source_format] = out->source_file;
  const auto exts = BackendExtensionsFor(out->source_format);
  for (const auto& bname : BackendNames()) {
    std::unique_ptr<Backend> b;
    if (!CreateBackend(bname, &b).ok() || b->capabilities().synthetic) continue;
    const auto caps = b->capabilities().file_extensions;
    const bool reads = std::any_of(exts.begin(), exts.end(), [&](const std::string& e) {
      return std::find(caps.begin(), caps.end(), e) != caps.end();
    });
    if (!reads) continue;
    const json j = options.isolate_describe ? DescribeIsolated(bname, out->source_file)
                                            : DescribeHere(bname, out->source_file);
    if (j.contains("error")) {
      return Status(static_cast<StatusCode>(j["code"].get<int>()), j["error"].get<std::string>())
          .Prefixed("cannot read the inputs and outputs of '" + name + "'");
    }
    for (const auto& t : j["inputs"]) out->inputs.push_back(InfoFromJson(t));
    for (const auto& t : j["outputs"]) out->outputs.push_back(InfoFromJson(t));
    out->described_by = bname;
    return Status::OK();
  }
  return Status::Unsupported("no backend compiled in reads " + out->source_format + " files ('" +
                             name + "'); `optic backends` lists what each reads");
}

std::vector<std::string> TraceShapes(const std::vector<TensorInfo>& inputs,
                                     const InputSettings& settings) {
  std::vector<std::string> out;
  for (const TensorInfo& t : inputs) {
    auto it = settings.shapes.find(t.name);
    if (it == settings.shapes.end()) continue;
    std::string text = t.name + "=";
    for (size_t i = 0; i < it->second.size(); ++i) text += (i ? "x" : "") + std::to_string(it->second[i]);
    out.push_back(text);
  }
  return out;
}

BackendFile FileForBackend(const ModelDescription& m, const Zoo* zoo, const Backend& backend,
                           Precision precision, const InputSettings& inputs) {
  BackendFile r;
  if (m.from_zoo) {
    Status s = zoo ? zoo->FileFor(*m.zoo_model, backend, precision, &r.path)
                   : Status::NotFound("no model zoo is open");
    if (!s.ok()) r.unsupported = s.ToString();
    return r;
  }
  const auto caps = backend.capabilities().file_extensions;
  for (const auto& e : BackendExtensionsFor(m.source_format)) {
    if (std::find(caps.begin(), caps.end(), e) != caps.end()) {
      r.path = m.source_file;
      return r;
    }
  }
  // Not native: a converted file, where a converter reads the source and writes what the
  // backend reads.
  std::string target;
  if (std::find(caps.begin(), caps.end(), ".pt") != caps.end()) target = "torchscript";
  else if (std::find(caps.begin(), caps.end(), ".onnx") != caps.end()) target = "onnx";
  const std::string reads = caps.empty() ? "no file format" : caps.front();
  if (target.empty()) {
    r.unsupported = backend.name() + ": reads " + reads + " files; no converter makes them from " +
                    m.source_format + " ('" + m.name + "')";
    return r;
  }
  ConvertedFile cf;
  Status s = ConvertModel(m.source_file, target, "", TraceShapes(m.inputs, inputs), &cf);
  if (!s.ok()) {
    r.unsupported = backend.name() + ": reads " + target + "; no " + target + " file for " +
                    fs::path(m.name).filename().string() + " and converting it failed: " +
                    s.ToString();
    return r;
  }
  r.path = cf.path;
  r.converted_by = cf.converted_by.empty() ? "" : cf.converted_by;
  return r;
}

}  // namespace optic
