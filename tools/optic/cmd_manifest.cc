// optic manifest: the host and versions every result row carries (host/manifest.h), as one JSON
// object, for a results folder's manifest.json.
#include <fstream>
#include <iostream>

#include "commands.h"
#include "host/manifest.h"

namespace optic::cli {

namespace {
void AddManifestCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "manifest", "Print this machine's manifest as JSON: CPU, cores, memory, OS, kernel, GPU and the "
                  "version of every compiled-in backend (what each result row's host and versions hold)");
  static std::string out;
  cmd->add_option("-o,--out", out, "write it to this file instead of stdout");
  cmd->callback([&ctx] {
    const nlohmann::json m = {{"host", host::HostManifest()},
                              {"versions", host::Versions()},
                              {"timestamp", host::UtcTimestamp()}};
    if (out.empty()) {
      std::cout << m.dump(2) << "\n";
      return;
    }
    std::ofstream f(out);
    if (f) f << m.dump(2) << "\n";
    if (!f) {
      std::cerr << "optic manifest: cannot write '" << out
                << "' (does its folder exist and is it writable?)\n";
      ctx.exit_code = 2;
    }
  });
}

const CommandRegistrar kRegistrar("manifest", AddManifestCommand);
}  // namespace

}  // namespace optic::cli
