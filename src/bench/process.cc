#include "bench/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace optic::bench {

using Clock = std::chrono::steady_clock;

namespace {

std::string TailOf(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > static_cast<std::streamoff>(max_bytes) ? size - max_bytes : 0;
  in.seekg(start);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s;
}

}  // namespace

std::string ChildOutcome::Describe() const {
  std::ostringstream os;
  const std::string where = last_phase.empty() ? "" : " during phase '" + last_phase + "'";
  if (timed_out) {
    os << "timed out after " << static_cast<int>(wall_s + 0.5) << " s" << where << " (killed)";
  } else if (term_signal) {
    os << "child killed by signal " << term_signal << " (" << strsignal(term_signal) << ")" << where;
    if (term_signal == SIGKILL) os << "; SIGKILL from outside the harness is usually the OOM killer";
  } else {
    os << "child exited with code " << exit_code << where << " without reporting a row";
  }
  if (!bad_row.empty()) os << "; a row it reported could not be read: " << bad_row;
  if (!stderr_tail.empty()) os << "; stderr tail: " << stderr_tail;
  return os.str();
}

Status RunCellProcess(const std::string& exe, const std::string& cell_file,
                      const std::string& log_file, double timeout_s,
                      const std::function<void(const std::string&)>& on_phase, ChildOutcome* out) {
  *out = ChildOutcome();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::Internal(std::string("pipe: ") + std::strerror(errno));
  const int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    close(fds[0]);
    close(fds[1]);
    return Status::Internal("cannot create '" + log_file + "': " + std::strerror(errno));
  }
  const pid_t parent = getpid();
  const auto start = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    close(log_fd);
    return Status::Internal(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    if (fds[1] == 3) fcntl(3, F_SETFD, 0);
    else dup2(fds[1], 3);
    execl(exe.c_str(), exe.c_str(), "bench-cell", "--cell", cell_file.c_str(), "--report-fd", "3",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  close(log_fd);
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(timeout_s));
  std::string buffer;
  char chunk[65536];
  for (;;) {
    if (Clock::now() >= deadline) {
      out->timed_out = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = poll(&p, 1, 500);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      on_phase("");
      continue;
    }
    const ssize_t n = read(fds[0], chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child closed its end (exited or crashed)
    buffer.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      const std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      if (line.rfind("phase ", 0) == 0) {
        out->last_phase = line.substr(6);
        on_phase(out->last_phase);
      } else if (line.rfind("row ", 0) == 0) {
        results::Row row;
        Status s = results::ParseLine(line.substr(4), results::ReadMode::kLenient, &row);
        if (s.ok()) out->rows.push_back(std::move(row));
        else if (out->bad_row.empty()) out->bad_row = s.ToString();
      }
    }
  }
  close(fds[0]);
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {}
  // The cell's own children (framework helpers) share its process group; leave none behind.
  kill(-pid, SIGKILL);
  out->wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  out->peak_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
  if (WIFSIGNALED(status)) out->term_signal = WTERMSIG(status);
  if (WIFEXITED(status)) out->exit_code = WEXITSTATUS(status);
  if (out->timed_out) out->term_signal = 0;
  std::string tail = TailOf(log_file, 1500);
  for (char& ch : tail) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  out->stderr_tail = tail;
  return Status::OK();
}

}  // namespace optic::bench
