// Text for the report's HTML, SVG and Markdown: escaping and compact numbers.
// Thread safety: pure functions.
#pragma once

#include <string>

namespace optic::report {

// `s` with < > & " as HTML entities (element text and double-quoted attributes).
std::string HtmlEscape(const std::string& s);
// `s` fit for one Markdown table cell: | escaped, newlines as spaces.
std::string MarkdownCell(const std::string& s);
// `v` through printf's `format` (default %.4g: four significant digits).
std::string FormatNumber(double v, const char* format = "%.4g");

}  // namespace optic::report
