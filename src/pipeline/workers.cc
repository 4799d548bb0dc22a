#include "pipeline/workers.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

extern char** environ;

namespace optic::pipeline {

std::string SelfExe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

Status WorkerProcesses::StartOne(const std::string& exe, const std::vector<std::string>& args,
                                 const std::string& consumer, pid_t* pid) {
  std::vector<std::string> all = {exe, "pipeline", "worker"};
  all.insert(all.end(), args.begin(), args.end());
  all.push_back("--consumer");
  all.push_back(consumer);
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = posix_spawn(pid, exe.c_str(), nullptr, nullptr, argv.data(), environ);
  if (rc != 0) {
    return Status::Internal("cannot start stage-2 worker '" + exe + "': " + std::strerror(rc));
  }
  pids_.push_back(*pid);
  return Status::OK();
}

Status WorkerProcesses::Start(const std::string& exe, const std::vector<std::string>& args, int n,
                              const std::string& name) {
  for (int i = 0; i < n; ++i) {
    pid_t pid = 0;
    Status s = StartOne(exe, args, name + "-" + std::to_string(i), &pid);
    if (!s.ok()) {
      Stop();
      return s;
    }
  }
  return Status::OK();
}

void WorkerProcesses::Kill(pid_t pid) {
  if (std::find(pids_.begin(), pids_.end(), pid) == pids_.end()) return;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  pids_.erase(std::find(pids_.begin(), pids_.end(), pid));
}

void WorkerProcesses::Stop() {
  for (pid_t p : pids_) kill(p, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (pid_t p : pids_) {
    while (waitpid(p, nullptr, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(p, SIGKILL);
        waitpid(p, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  pids_.clear();
}

}  // namespace optic::pipeline
