// HTML reporter: one self-contained page. Chart.js (read from disk at write time), the page's
// own script and style (compiled in from assets/), and the data as JSON all go inline, so the
// file opens offline and can be mailed or attached to a pull request.
#include <fstream>
#include <sstream>

#include "report/html_assets.h"
#include "report/html_data.h"
#include "report/html_text.h"
#include "report/pipeline_figure.h"
#include "report/scaling.h"
#include "report/report.h"

namespace optic::report {

namespace {

// JSON inside <script> must not close the element or start a comment: escape "</" and "<!--".
std::string ScriptSafe(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    if (json[i] == '<') {
      out += "\\u003c";
    } else {
      out += json[i];
    }
  }
  return out;
}

class HtmlReporter : public Reporter {
 public:
  explicit HtmlReporter(std::string chartjs) : chartjs_(std::move(chartjs)) {}

  Status Write(const Report& rep, std::ostream& out) const override {
    std::ifstream in(chartjs_, std::ios::binary);
    if (!in) {
      return Status::NotFound("cannot read Chart.js at '" + chartjs_ +
                              "': install Debian's libjs-chart.js (scripts/setup.sh) or pass "
                              "--chartjs PATH / set OPTIC_CHARTJS");
    }
    std::stringstream chartjs;
    chartjs << in.rdbuf();
    if (chartjs.str().find("Chart") == std::string::npos) {
      return Status::InvalidArgument("'" + chartjs_ + "' does not look like Chart.js");
    }
    // error_handler::replace: a stray invalid UTF-8 byte in an error message must not abort.
    const std::string data =
        ReportJson(rep).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out << "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        << "<meta name=\"generator\" content=\"optic report\">\n"
        << "<title>" << HtmlEscape(rep.options.title) << "</title>\n<style>\n"
        << kReportCss << "</style>\n</head>\n<body>\n"
        << "<noscript>This report draws its tables and charts with JavaScript; enable it to "
           "see them. The data is in the optic-data script element.</noscript>\n"
        << ScalingHtml(ScalingSeriesOf(rep.results)) << PipelineHtml(PipelineSeriesOf(rep.results)) << "<div id=\"app\"></div>\n"
        << "<script>\n" << chartjs.str() << "\n</script>\n"
        << "<script id=\"optic-data\" type=\"application/json\">" << ScriptSafe(data)
        << "</script>\n<script>\n" << kReportJs << "</script>\n</body>\n</html>\n";
    return out ? Status::OK() : Status::Internal("error writing the HTML report");
  }

 private:
  std::string chartjs_;
};

}  // namespace

std::unique_ptr<Reporter> MakeHtmlReporter(std::string chartjs_path) {
  return std::make_unique<HtmlReporter>(std::move(chartjs_path));
}

}  // namespace optic::report
