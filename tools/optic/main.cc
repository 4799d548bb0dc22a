// optic: benchmark, compare and serve computer-vision inference across frameworks.
#include <algorithm>
#include <iostream>
#include <map>

#include "commands.h"

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
