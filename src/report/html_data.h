// The data the HTML page embeds (one JSON object; shape documented in docs/report.md).
#pragma once

#include <nlohmann/json.hpp>

#include "report/report.h"

namespace optic::report {

nlohmann::json ReportJson(const Report& report);

}  // namespace optic::report
