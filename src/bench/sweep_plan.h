// Internal to the sweep: expanding the grid into cells and choosing the reference backend.
#pragma once

#include <string>
#include <vector>

#include "bench/config.h"
#include "optic/zoo.h"

namespace optic::bench {

struct Planned {
  CellSpec cell;
  std::string unsupported;  // non-empty: known without running (capabilities, missing file)
};

// Expands the (resolved) config into cells, in order model, backend, device, precision, batch,
// threads, scenario; ensemble cells last. `zoo` may be null when only model "null" is used.
Status PlanCells(const BenchConfig& c, const Zoo* zoo, const std::string& work_dir,
                 std::vector<Planned>* out);

// The reference backend for `cell`'s model: config.reference, else the first real backend in
// registry order that can run the model at fp32 on the CPU, else the first of the sweep's
// backends that can; "" when none can.
std::string PickReference(const BenchConfig& c, const Zoo* zoo, const CellSpec& cell);

}  // namespace optic::bench
