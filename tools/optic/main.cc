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

Status ModelInputFlags::AddTo(InputSettings* settings) const {
  for (const auto& t : shapes) OPTIC_RETURN_IF_ERROR(ParseShapeSetting(t, "--shape", settings));
  for (const auto& t : ranges) OPTIC_RETURN_IF_ERROR(ParseRangeSetting(t, "--input-range", settings));
  if (!data.empty()) settings->data_file = data;
  return Status::OK();
}

void AddModelInputOptions(CLI::App* cmd, ModelInputFlags* flags, const std::string& first_dim,
                          const std::string& float_default, const std::string& data_use) {
  cmd->add_option("--shape", flags->shapes,
                  "name=1x3x960x960: the dims of an input with variable dims (repeatable" +
                      (first_dim.empty() ? "" : "; a variable first dim takes " + first_dim) + ")");
  cmd->add_option("--input-range", flags->ranges,
                  "name=lo:hi: values of one input (repeatable; default floats " + float_default +
                      ", int8/int32/int64 integers 0..99, uint8 0..255)");
  cmd->add_option("--input-data", flags->data,
                  "a .npy (one input) or .npz (arrays named after the inputs) file: " + data_use);
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
