// The report's names for the aggregation of a cell's repeats (results/repeats.h), as results.h
// gives it the row's.
#pragma once

#include "results/repeats.h"

namespace optic::report {

using results::AggregateRepeats;
using results::CollapseRepeats;
using results::kRepeatSpreadRule;
using results::RepeatAggregate;
using results::SpreadViolations;

}  // namespace optic::report
