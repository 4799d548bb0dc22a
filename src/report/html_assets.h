// The page's own script and style, compiled in from src/report/assets/ by CMake
// (html_assets.cc.in), so the optic binary needs no data files besides Chart.js.
#pragma once

namespace optic::report {

extern const char kReportJs[];
extern const char kReportCss[];

}  // namespace optic::report
