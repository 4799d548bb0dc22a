// optic: benchmark, compare and serve computer-vision inference across frameworks.
#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>

#include "commands.h"
#include "optic/parse_number.h"

namespace optic::cli {

static std::map<std::string, AddCommandFn>& Commands() {
  static std::map<std::string, AddCommandFn> commands;  // sorted: --help lists them by name
  return commands;
}

CommandRegistrar::CommandRegistrar(const char* name, AddCommandFn add) { Commands()[name] = add; }

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char c : text + ",") {
    if (c == ',') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else if (c != ' ') {
      item += c;
    }
  }
  return out;
}

namespace {

// CLI11 prefixes the flag's name; the parser's own "what: " prefix is dropped.
std::string WithoutWhat(const Status& s) {
  if (s.ok()) return "";
  const std::string& m = s.message();
  return m.rfind(": ", 0) == 0 ? m.substr(2) : m;
}

}  // namespace

CLI::Validator RealCheck(double min, bool min_exclusive, double max) {
  return CLI::Validator(
      [=](std::string& text) {
        double v;
        return WithoutWhat(ParseReal(text, "", min, min_exclusive, max, &v));
      },
      (min_exclusive ? "NUMBER > " : "NUMBER >= ") + (std::ostringstream() << min).str());
}

CLI::Validator IntegerCheck(int64_t min, int64_t max) {
  return CLI::Validator(
      [=](std::string& text) {
        int64_t v;
        return WithoutWhat(ParseInteger(text, "", min, max, &v));
      },
      "INT in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
}

}  // namespace optic::cli

int main(int argc, char** argv) {
  CLI::App app{"optic: benchmark, compare and serve computer-vision inference across frameworks"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "optic 0.1.0");
  optic::cli::Context ctx;
  for (const auto& [name, add] : optic::cli::Commands()) add(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return ctx.exit_code;
}
