#include "iree_compiler.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

extern char** environ;

namespace optic::iree_backend {
namespace {

namespace fs = std::filesystem;

std::string Hex(const unsigned char* digest, unsigned int len) {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

std::string Sha256(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return Hex(digest, len);
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// What --iree-llvmcpu-target-cpu=host resolves to: the CPU model and its feature flags, so a
// cache shared between machines never hands one CPU another's kernels.
std::string HostCpu() {
  static const std::string cpu = [] {
    std::ifstream in("/proc/cpuinfo");
    std::string line, model, flags;
    while (std::getline(in, line) && (model.empty() || flags.empty())) {
      if (model.empty() && line.rfind("model name", 0) == 0) model = line;
      if (flags.empty() && line.rfind("flags", 0) == 0) flags = line;
    }
    return model + "\n" + flags;
  }();
  return cpu;
}

// The compile script's bytes are part of every key: a module built by an older script is redone.
const std::string& ScriptHash() {
  static const std::string hash = Sha256(ReadAll(OPTIC_IREE_COMPILE_SCRIPT));
  return hash;
}

// The last non-empty line: the compile script's reason.
std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of("\n ");
  if (end == std::string::npos) return "";
  size_t start = text.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return text.substr(start, end + 1 - start);
}

// Runs argv with stdout and stderr into `log`; returns the exit code (-1 not started, 128+N
// killed by signal N). posix_spawn, not fork: optic's callers are multi-threaded.
int Run(const std::vector<std::string>& argv, const fs::path& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// Runs the compile script with `args` (after the script's path), writing into `dir`; maps its
// exit codes onto Status codes.
Status RunScript(const std::vector<std::string>& args, const fs::path& dir, const std::string& what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Status::Unavailable(what + ": cannot create the cache folder '" + dir.string() + "': " +
                               ec.message() + "; pass cache_dir=<a writable folder>");
  }
  static std::atomic<int> counter{0};
  const fs::path log =
      dir / ("compile.log." + std::to_string(getpid()) + "." + std::to_string(counter++));
  std::vector<std::string> argv = {OPTIC_IREE_PYTHON, OPTIC_IREE_COMPILE_SCRIPT};
  argv.insert(argv.end(), args.begin(), args.end());
  const int rc = Run(argv, log);
  const std::string reason = LastLine(ReadAll(log));
  fs::remove(log, ec);
  switch (rc) {
    case 0:
      return Status::OK();
    case -1:
      return Status::Unavailable(what + ": cannot start " + std::string(OPTIC_IREE_PYTHON) +
                                 " (run scripts/setup.sh: it installs iree-base-compiler)");
    case 2:
      return Status::InvalidArgument(what + ": " + reason);
    case 3:
      return Status::Unsupported(what + ": " + reason);
    default:
      return Status::Internal(what + ": the compiler exited with " + std::to_string(rc) + ": " +
                              reason);
  }
}

Status ReadInfos(const nlohmann::json& list, std::vector<TensorInfo>* out) {
  out->clear();
  for (const auto& item : list) {
    TensorInfo info;
    info.name = item.at(0).get<std::string>();
    OPTIC_RETURN_IF_ERROR(ParseDType(item.at(1).get<std::string>(), &info.dtype));
    info.shape = item.at(2).get<std::vector<int64_t>>();
    out->push_back(std::move(info));
  }
  return Status::OK();
}

std::string ShapeText(const Shape& s) {
  std::string text;
  for (size_t i = 0; i < s.size(); ++i) text += (i ? "x" : "") + std::to_string(s[i]);
  return text;
}

}  // namespace

Status HashFile(const std::string& path, std::string* hex) {
  if (!std::ifstream(path, std::ios::binary)) {
    return Status::NotFound("iree: cannot read model file '" + path + "'");
  }
  *hex = Sha256(ReadAll(path));
  return Status::OK();
}

std::string CacheRoot(const std::string& cache_dir) {
  if (!cache_dir.empty()) return cache_dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return (fs::path(xdg) / "optic").string();
  }
  const char* home = std::getenv("HOME");
  return (fs::path(home && *home ? home : "/tmp") / ".cache" / "optic").string();
}

Status ReadArtefact(const std::string& vmfb, Artefact* out, bool allow_missing_params) {
  const fs::path json_path = fs::path(vmfb).replace_extension(".json");
  std::error_code ec;
  if (!fs::is_regular_file(json_path, ec)) {
    return Status::InvalidArgument("iree: '" + vmfb + "' has no compile record '" +
                                   json_path.string() + "' beside it (optic_iree_compile.py "
                                   "writes one next to every module it compiles)");
  }
  try {
    const nlohmann::json j = nlohmann::json::parse(ReadAll(json_path));
    OPTIC_RETURN_IF_ERROR(ReadInfos(j.at("inputs"), &out->inputs));
    OPTIC_RETURN_IF_ERROR(ReadInfos(j.at("outputs"), &out->outputs));
    out->entry = j.at("entry").get<std::string>();
    out->target = j.at("target").get<std::string>();
    out->precision = j.at("precision").get<std::string>();
    out->compile_s = j.value("compile_s", -1.0);
    out->declared_inputs = out->inputs;
    out->declared_outputs = out->outputs;
    if (j.contains("declared")) {
      OPTIC_RETURN_IF_ERROR(ReadInfos(j["declared"].at("inputs"), &out->declared_inputs));
      OPTIC_RETURN_IF_ERROR(ReadInfos(j["declared"].at("outputs"), &out->declared_outputs));
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
  const fs::path info = dir / (Sha256(s.onnx_sha256 + "\nio\n" + ScriptHash()) + ".io.json");
  const std::string what = "iree: cannot load '" + s.onnx_path + "'";
  std::error_code ec;
  if (!fs::is_regular_file(info, ec)) {
    OPTIC_RETURN_IF_ERROR(RunScript({"describe", s.onnx_path, info.string()}, dir, what));
  }
  try {
    const nlohmann::json j = nlohmann::json::parse(ReadAll(info));
    OPTIC_RETURN_IF_ERROR(ReadInfos(j.at("inputs"), inputs));
    OPTIC_RETURN_IF_ERROR(ReadInfos(j.at("outputs"), outputs));
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
  const std::string where = s.target == "cuda" ? "cuda " + s.cuda_arch : "llvm-cpu host\n" + HostCpu();
  const std::string key = Sha256(s.onnx_sha256 + "\n" + where + "\nopt=" + s.opt_level +
                                 "\nprecision=" + s.precision + "\nparams=" +
                                 (s.external_params ? "external" : "inline") + "\n" + shape_key +
                                 "iree-base-compiler " + OPTIC_IREE_COMPILER_VERSION + "\n" +
                                 ScriptHash());
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
    OPTIC_RETURN_IF_ERROR(RunScript(args, dir, "iree: cannot compile '" + s.onnx_path + "'"));
  }
  const bool hit = out->cache_hit;
  OPTIC_RETURN_IF_ERROR(ReadArtefact(vmfb.string(), out)
                            .Prefixed("iree: cannot compile '" + s.onnx_path + "'"));
  out->cache_hit = hit;
  return Status::OK();
}

}  // namespace optic::iree_backend
