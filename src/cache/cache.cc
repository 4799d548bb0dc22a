#include "cache/cache.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>

extern char** environ;

namespace optic::cache {
namespace {

namespace fs = std::filesystem;

std::string Hex(const unsigned char* digest, unsigned int len) {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += {kHex[digest[i] >> 4], kHex[digest[i] & 15]};
  return hex;
}

std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of("\n ");
  if (end == std::string::npos) return "";
  size_t start = text.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return text.substr(start, end + 1 - start);
}

// Runs argv with stdout and stderr into `log`; returns the exit code (-1 not started, 128+N
// killed by signal N).
int Run(const std::vector<std::string>& argv, const std::string& log) {
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

}  // namespace

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return Hex(digest, len);
}

Status Sha256File(const std::string& path, std::string* hex) {
  static std::mutex mu;
  static std::map<std::string, std::pair<std::string, std::string>> memo;  // path -> (stamp, hash)
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Status::NotFound("cannot read '" + path + "'");
  const std::string stamp = std::to_string(st.st_mtim.tv_sec) + "." +
                            std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_size);
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = memo.find(path);
    if (it != memo.end() && it->second.first == stamp) {
      *hex = it->second.second;
      return Status::OK();
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read '" + path + "'");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  *hex = Hex(digest, len);
  std::lock_guard<std::mutex> lock(mu);
  memo[path] = {stamp, *hex};
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

const std::string& HostCpu() {
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

const std::string& CompileScript::Hash() const {
  static std::mutex mu;
  static std::map<std::string, std::string> memo;
  std::lock_guard<std::mutex> lock(mu);
  auto [it, fresh] = memo.try_emplace(script);
  if (fresh) it->second = Sha256Hex(ReadAll(script) + "\n" + ReadAll(OPTIC_ONNX_SCRIPT));
  return it->second;
}

Status RunCompileScript(const CompileScript& script, const std::vector<std::string>& args,
                        const std::string& dir, const std::string& what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Status::Unavailable(what + ": cannot create the cache folder '" + dir + "': " +
                               ec.message() + "; pass cache_dir=<a writable folder>");
  }
  static std::atomic<int> counter{0};
  const std::string log = (fs::path(dir) / ("compile.log." + std::to_string(getpid()) + "." +
                                            std::to_string(counter++)))
                              .string();
  std::vector<std::string> argv = {script.python, script.script};
  argv.insert(argv.end(), args.begin(), args.end());
  const int rc = Run(argv, log);
  const std::string reason = LastLine(ReadAll(log));
  fs::remove(log, ec);
  switch (rc) {
    case 0:
      return Status::OK();
    case -1:
      return Status::Unavailable(what + ": cannot start " + script.python + " (" + script.setup_hint + ")");
    case 2:
      return Status::InvalidArgument(what + ": " + reason);
    case 3:
      return Status::Unsupported(what + ": " + reason);
    default:
      return Status::Internal(what + ": the compiler exited with " + std::to_string(rc) + ": " + reason);
  }
}

Status ParseTensorInfos(const nlohmann::json& list, std::vector<TensorInfo>* out) {
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

}  // namespace optic::cache
