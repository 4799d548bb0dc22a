// Parent side of cell isolation: runs `<exe> bench-cell --cell FILE --report-fd 3` as a child
// process in its own process group, reads its protocol lines (cell.h), kills it at the time
// limit, and reports how it ended. The child dies with the parent (PR_SET_PDEATHSIG), so a
// killed sweep leaves no orphan cell running.
// Threading: call from one thread; blocks until the child is gone.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "optic/status.h"
#include "results/row.h"

namespace optic::bench {

struct ChildOutcome {
  std::vector<results::Row> rows;    // "row" lines received
  std::string bad_row;               // why a "row" line could not be read (the first one)
  bool timed_out = false;
  int term_signal = 0;               // killed by this signal (0: exited)
  int exit_code = 0;
  std::string last_phase;
  std::string stderr_tail;           // last ~2 KB of the child's stdout+stderr
  double peak_rss_mb = -1;           // from wait4's rusage
  double wall_s = 0;
  // One sentence for the row's error when the child gave no row: crash, timeout, exit.
  std::string Describe() const;
};

// `on_phase` is called with each phase name as it arrives (and with "" about twice a second,
// so a progress display can tick). Fails only when the child cannot be started.
Status RunCellProcess(const std::string& exe, const std::string& cell_file,
                      const std::string& log_file, double timeout_s,
                      const std::function<void(const std::string&)>& on_phase, ChildOutcome* out);

}  // namespace optic::bench
