// Numbers from users (flags, list items, option values), parsed whole and range-checked: a bad
// value is an InvalidArgument that names what it was for, the text and the accepted range, never
// an exception or a silent 0.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "optic/status.h"

namespace optic {

// `what` names the value in errors (a flag such as "--concurrency"). The whole of `text` must be
// a base-10 integer in [min, max].
Status ParseInteger(const std::string& text, const std::string& what, int64_t min, int64_t max,
                    int64_t* out);
Status ParseInteger(const std::string& text, const std::string& what, int min, int max, int* out);

// The whole of `text` must be a finite decimal number, > min when `min_exclusive` (else >= min),
// and <= max.
Status ParseReal(const std::string& text, const std::string& what, double min, bool min_exclusive,
                 double max, double* out);

// Comma-separated lists of the above ("1,2,4"); empty items are skipped, an empty list is an
// error. Every item is checked before any is used.
Status ParseIntegerList(const std::string& text, const std::string& what, int min, int max,
                        std::vector<int>* out);
Status ParseRealList(const std::string& text, const std::string& what, double min,
                     bool min_exclusive, double max, std::vector<double>* out);

}  // namespace optic
