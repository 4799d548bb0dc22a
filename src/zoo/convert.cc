#include "convert.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <vector>

#include "cache/cache.h"
#ifndef OPTIC_PYTHON
#define OPTIC_PYTHON "python3"
#endif
#ifndef OPTIC_SOURCE_DIR
#define OPTIC_SOURCE_DIR "."
#endif

namespace optic {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// convert.py's exit codes (its docstring).
constexpr int kExitBadInput = 2, kExitUnsupported = 3, kExitMissing = 4;

const char* ExtensionFor(const std::string& format) {
  return format == "onnx" ? ".onnx" : ".pt";
}

Status ReadFile(const fs::path& path, std::string* bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open '" + path.string() + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  *bytes = ss.str();
  return Status::OK();
}

// The format a file is in, from its bytes: TorchScript and .pt2 files are zip archives told apart
// by the entries torch writes; ONNX is a protobuf whose first field is ir_version (tag 0x08).
Status DetectFormat(const std::string& path, const std::string& bytes, std::string* format) {
  if (bytes.compare(0, 4, "PK\x03\x04") == 0) {
    if (bytes.find("aotinductor") != std::string::npos) {
      *format = "aoti";
    } else if (bytes.find("serialized_exported_program") != std::string::npos ||
               bytes.find("archive_format") != std::string::npos) {
      *format = "pt2";
    } else if (bytes.find("data.pkl") != std::string::npos) {
      *format = "torchscript";
    } else {
      return Status::InvalidArgument("'" + path + "' is a zip archive but neither TorchScript "
                                     "nor a torch.export program (no data.pkl or "
                                     "serialized_exported_program entry)");
    }
    return Status::OK();
  }
  if (bytes[0] == 0x08) {
    *format = "onnx";
    return Status::OK();
  }
  return Status::InvalidArgument("'" + path + "' is not a model file optic can read: neither "
                                 "ONNX (protobuf starting with ir_version) nor a zip archive "
                                 "(TorchScript, .pt2); check the file is complete");
}

// Runs argv with stdout and stderr captured into files; returns the exit code (-1: not started,
// 128+N: killed by signal N).
int RunCaptured(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) _exit(127);
    dup2(o, 1);
    dup2(e, 2);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

std::string ReadText(const fs::path& path) {
  std::string text;
  (void)ReadFile(path, &text);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string ScriptPath() { return std::string(OPTIC_SOURCE_DIR) + "/tools/zoo/convert.py"; }

// The converters' versions (convert.py versions): part of every cache key, read once per process.
Status ConverterVersions(const fs::path& scratch, std::string* out) {
  static std::mutex mu;
  static std::string cached;
  std::lock_guard<std::mutex> lock(mu);
  if (cached.empty()) {
    if (!fs::exists(OPTIC_PYTHON)) {
      return Status::Unavailable(std::string("converter Python '") + OPTIC_PYTHON +
                                 "' not found; run scripts/setup.sh (it makes .venv)");
    }
    const std::string tag = ".versions-" + std::to_string(getpid());
    const fs::path o = scratch / (tag + ".out"), e = scratch / (tag + ".err");
    const int rc = RunCaptured({OPTIC_PYTHON, "-W", "ignore", ScriptPath(), "versions"}, o, e);
    std::string text = ReadText(o);
    const std::string why = ReadText(e);
    std::error_code ec;
    fs::remove(o, ec);
    fs::remove(e, ec);
    if (rc != 0 || text.empty()) {
      return Status::Unavailable("'" + ScriptPath() + " versions' failed (exit " +
                                 std::to_string(rc) + "): " + why);
    }
    cached = text;
  }
  *out = cached;
  return Status::OK();
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A finished cache entry: KEY/info.json plus the converted file, or KEY/error.json for a model
// the converter refused (refusals are cached too: they cost as long as a conversion).
Status ReadEntry(const fs::path& dir, ConvertedFile* out, bool* found) {
  *found = false;
  const fs::path error = dir / "error.json", info = dir / "info.json";
  try {
    if (fs::exists(error)) {
      *found = true;
      const json j = json::parse(ReadText(error));
      return Status::Unsupported(j.at("message").get<std::string>());
    }
    if (!fs::exists(info)) return Status::OK();
    const json j = json::parse(ReadText(info));
    const fs::path file = dir / fs::path(j.at("path").get<std::string>()).filename();
    if (!fs::exists(file)) return Status::OK();
    *found = true;
    out->path = file.string();
    out->converted_by = j.at("converted_by").get<std::string>();
    out->convert_seconds = j.value("seconds", 0.0);
  } catch (const std::exception& e) {
    *found = false;  // a damaged entry is converted afresh
  }
  return Status::OK();
}

}  // namespace

std::string DefaultConvertCacheDir() {
  if (const char* env = std::getenv("OPTIC_CONVERT_CACHE"); env && *env) return env;
  return cache::CacheRoot("") + "/converted";
}

Status ConvertModel(const std::string& source, const std::string& target_format,
                    const std::string& cache_dir, ConvertedFile* out) {
  return ConvertModel(source, target_format, cache_dir, {}, out);
}

Status ConvertModel(const std::string& source, const std::string& target_format,
                    const std::string& cache_dir, const std::vector<std::string>& shapes,
                    ConvertedFile* out) {
  const auto start = std::chrono::steady_clock::now();
  *out = ConvertedFile();
  out->target_format = target_format;
  if (target_format != "onnx" && target_format != "torchscript") {
    return Status::InvalidArgument("unknown target format '" + target_format +
                                   "'; ConvertModel writes onnx or torchscript");
  }
  std::error_code ec;
  if (!fs::exists(source, ec)) return Status::NotFound("model file '" + source + "' not found");
  if (fs::is_directory(source, ec)) {
    return Status::InvalidArgument("'" + source + "' is a directory; give the model file in it");
  }
  std::string bytes;
  OPTIC_RETURN_IF_ERROR(ReadFile(source, &bytes));
  if (bytes.empty()) {
    return Status::InvalidArgument("model file '" + source + "' is empty; re-export or re-copy it");
  }
  OPTIC_RETURN_IF_ERROR(DetectFormat(source, bytes, &out->source_format));
  if (out->source_format == target_format) {
    out->path = fs::absolute(source).lexically_normal().string();
    out->seconds = SecondsSince(start);
    return Status::OK();
  }

  const fs::path root = fs::absolute(cache_dir.empty() ? DefaultConvertCacheDir() : cache_dir);
  fs::create_directories(root, ec);
  if (ec) {
    return Status::Internal("cannot create the conversion cache '" + root.string() +
                            "': " + ec.message() + "; pass another cache directory");
  }
  std::string tool_versions;
  OPTIC_RETURN_IF_ERROR(ConverterVersions(root, &tool_versions));
  std::string key_text = cache::Sha256Hex(bytes) + "\n" + target_format + "\n" + tool_versions;
  for (const auto& shape : shapes) key_text += "\nshape " + shape;
  out->cache_key = cache::Sha256Hex(key_text);
  const fs::path entry = root / out->cache_key;

  bool found = false;
  Status cached = ReadEntry(entry, out, &found);
  if (found) {
    out->cached = true;
    out->seconds = SecondsSince(start);
    if (cached.ok()) return cached;
    return Status::Unsupported(cached.message() + " (converting '" + source + "' to " +
                               target_format + "; cached refusal " + out->cache_key + ")");
  }

  // Convert into a private scratch directory, then rename it into place as one step.
  std::random_device rd;
  const fs::path scratch = root / (".tmp-" + out->cache_key.substr(0, 16) + "-" +
                                   std::to_string(getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(scratch, ec);
  if (ec) return Status::Internal("cannot create '" + scratch.string() + "': " + ec.message());
  const fs::path so = scratch / "convert.out", se = scratch / "convert.err";
  std::vector<std::string> argv = {OPTIC_PYTHON, "-W", "ignore", ScriptPath(), "convert",
                                   "--source", fs::absolute(source).string(), "--target",
                                   target_format, "--source-format", out->source_format,
                                   "--out", scratch.string()};
  for (const auto& shape : shapes) argv.insert(argv.end(), {"--shape", shape});
  const int rc = RunCaptured(argv, so, se);
  // convert.py's own message; its stderr also carries the frameworks' log lines and warnings.
  const std::string err =
      fs::exists(scratch / "error.txt") ? ReadText(scratch / "error.txt") : ReadText(se);
  Status result;
  if (rc == kExitUnsupported) {
    result = Status::Unsupported(err);
    std::ofstream(scratch / "error.json") << json{{"message", err}}.dump() << "\n";
  } else if (rc == kExitBadInput) {
    result = Status::InvalidArgument(err);
  } else if (rc == kExitMissing) {
    result = Status::Unavailable(err);
  } else if (rc != 0) {
    result = Status::Internal("converter exited with code " + std::to_string(rc) + ": " + err);
  } else {
    try {
      std::string line = ReadText(so);
      line = line.substr(line.rfind('\n') == std::string::npos ? 0 : line.rfind('\n') + 1);
      json info = json::parse(line);
      // Relative: the entry is renamed from the scratch directory into place.
      info["path"] = fs::path(info.at("path").get<std::string>()).filename().string();
      std::ofstream(scratch / "info.json") << info.dump(2) << "\n";
    } catch (const std::exception& e) {
      result = Status::Internal(std::string("converter printed no result line: ") + e.what());
    }
  }
  if (result.ok() || result.code() == StatusCode::kUnsupported) {
    fs::rename(scratch, entry, ec);  // fails when a concurrent conversion got there first
  }
  fs::remove_all(scratch, ec);
  if (!result.ok() && result.code() != StatusCode::kUnsupported) {
    return result.Prefixed("converting '" + source + "' to " + target_format);
  }
  Status read = ReadEntry(entry, out, &found);
  out->seconds = SecondsSince(start);
  if (!found) return Status::Internal("conversion cache entry '" + entry.string() + "' vanished");
  if (read.ok()) return read;
  return Status::Unsupported(read.message() + " (converting '" + source + "' to " +
                             target_format + ")");
}

}  // namespace optic
