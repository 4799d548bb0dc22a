// Terminal output of a sweep: a live progress line (cell i/N, current phase, elapsed, ETA) and
// the summary table at the end (best configuration per model for latency and for throughput).
// On a terminal the line is redrawn in place; otherwise one line per finished cell is printed.
// Threading: one thread (the sweep's).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "results/row.h"

namespace optic::bench {

class Progress {
 public:
  Progress(FILE* out, bool interactive) : out_(out), interactive_(interactive) {}
  void Begin(int total);
  void CellStart(int index, const std::string& label);
  void Phase(const std::string& phase);  // "" = just redraw (elapsed ticks)
  void CellDone(const results::Row& row);
  void Note(const std::string& text);     // a line that stays (e.g. "reference for resnet50 b4")
  void End();

 private:
  void Draw();
  FILE* out_;
  bool interactive_;
  int total_ = 0, index_ = 0, done_ = 0;
  std::string label_, phase_;
  std::chrono::steady_clock::time_point sweep_start_, cell_start_;
};

// The summary of `rows` (one sweep's rows): counts per status, then per model the best
// single_stream p50 and the best offline throughput, and which configuration gave them.
void PrintSummary(const std::vector<results::Row>& rows, FILE* out);

}  // namespace optic::bench
