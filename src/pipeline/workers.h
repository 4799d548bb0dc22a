// Stage-2 worker processes on this machine: `<exe> pipeline worker <args> --consumer <name>-<i>`,
// started with posix_spawn and stopped with SIGTERM (SIGKILL after a grace period).
// Ownership: a WorkerProcesses object owns its children and stops them when destroyed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "optic/status.h"

namespace optic::pipeline {

class WorkerProcesses {
 public:
  ~WorkerProcesses() { Stop(); }
  // Starts `n` workers; `args` follow "pipeline worker". On failure the started ones are stopped.
  Status Start(const std::string& exe, const std::vector<std::string>& args, int n, const std::string& name);
  // Starts one more (a replacement after a kill); returns its pid.
  Status StartOne(const std::string& exe, const std::vector<std::string>& args, const std::string& consumer,
                  pid_t* pid);
  // SIGKILLs one worker (tests of a dead consumer).
  void Kill(pid_t pid);
  void Stop();
  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  std::vector<pid_t> pids_;
};

// The path of the running executable (/proc/self/exe).
std::string SelfExe();

}  // namespace optic::pipeline
