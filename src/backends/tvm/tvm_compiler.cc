#include "tvm_compiler.h"

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

namespace optic::tvm_backend {
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

// What "-mcpu=native" resolves to: the CPU model and its feature flags, so a cache shared between
// machines never hands one CPU another's kernels.
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

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The last non-empty line: the compiler script's reason (earlier lines are TVM's own logging).
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

Status ReadInfo(const fs::path& json_path, Artefact* out) {
  try {
    const nlohmann::json j = nlohmann::json::parse(ReadAll(json_path));
    for (const char* side : {"inputs", "outputs"}) {
      auto& list = std::string(side) == "inputs" ? out->inputs : out->outputs;
      list.clear();
      for (const auto& item : j.at(side)) {
        TensorInfo info;
        info.name = item.at(0).get<std::string>();
        OPTIC_RETURN_IF_ERROR(ParseDType(item.at(1).get<std::string>(), &info.dtype));
        info.shape = item.at(2).get<std::vector<int64_t>>();
        list.push_back(std::move(info));
      }
    }
  } catch (const std::exception& e) {
    return Status::Internal("cannot read '" + json_path.string() + "' (" + e.what() +
                            "); delete it to compile again");
  }
  return Status::OK();
}

}  // namespace

Status HashFile(const std::string& path, std::string* hex) {
  if (!std::ifstream(path, std::ios::binary)) {
    return Status::NotFound("tvm: cannot read model file '" + path + "'");
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

Status GetArtefact(const CompileSettings& s, int batch, Artefact* out) {
  const std::string batch_tag = batch > 0 ? std::to_string(batch) : "dyn";
  const std::string key =
      Sha256(s.onnx_sha256 + "\nllvm -mcpu=native\n" + HostCpu() + "\ntrials=" +
             std::to_string(s.trials) + "\nbatch=" + batch_tag + "\ntvm " + OPTIC_TVM_VERSION +
             "\ntvm-ffi " + OPTIC_TVM_FFI_VERSION);
  const fs::path dir = fs::path(s.cache_root) / "tvm";
  const fs::path library = dir / (key + ".so"), info = dir / (key + ".json");
  const std::string what = "tvm: cannot compile '" + s.onnx_path + "'";
  std::error_code ec;
  out->cache_hit = fs::is_regular_file(library, ec) && fs::is_regular_file(info, ec);
  if (!out->cache_hit) {
    fs::create_directories(dir, ec);
    if (ec) {
      return Status::Unavailable(what + ": cannot create the cache folder '" + dir.string() +
                                 "': " + ec.message() + "; pass cache_dir=<a writable folder>");
    }
    static std::atomic<int> counter{0};
    const fs::path log = dir / (key + ".log." + std::to_string(getpid()) + "." +
                                std::to_string(counter++));
    const int rc = Run({OPTIC_TVM_PYTHON, OPTIC_TVM_COMPILE_SCRIPT, "compile", s.onnx_path,
                        library.string(), "--batch", batch_tag, "--trials",
                        std::to_string(s.trials), "--work-dir", (dir / (key + ".tuning")).string()},
                       log);
    const std::string reason = LastLine(ReadAll(log));
    fs::remove(log, ec);
    switch (rc) {
      case 0:
        break;
      case -1:
        return Status::Unavailable(what + ": cannot start " + std::string(OPTIC_TVM_PYTHON) +
                                   " (run scripts/setup.sh: it makes .deps/tvm-venv)");
      case 2:
        return Status::InvalidArgument(what + ": " + reason);
      case 3:
        return Status::Unsupported(what + ": " + reason);
      default:
        return Status::Internal(what + ": the compiler exited with " + std::to_string(rc) +
                                ": " + reason);
    }
  }
  out->library = library.string();
  return ReadInfo(info, out).Prefixed(what);
}

}  // namespace optic::tvm_backend
