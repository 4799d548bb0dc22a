// Runs the optic executable under test as a child process (stdout silenced), for tests that
// need the real CLI: sweeps, kills, exit statuses.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace optic::testing {

inline const std::string& OpticBinary() {
  static const std::string path = std::string(OPTIC_BINARY_DIR) + "/optic";
  return path;
}

// Starts `optic args...`; returns the child's pid (the caller waits or kills it).
inline pid_t SpawnOptic(std::vector<std::string> args) {
  args.insert(args.begin(), OpticBinary());
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (std::freopen("/dev/null", "w", stdout) == nullptr) _exit(126);
    execv(OpticBinary().c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Runs `optic args...` to completion; its exit status, or 128 + signal.
inline int RunOptic(const std::vector<std::string>& args) {
  const pid_t pid = SpawnOptic(args);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace optic::testing
