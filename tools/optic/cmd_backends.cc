// optic backends: what is compiled in, each framework's version and capabilities on this machine.
#include <iostream>

#include "commands.h"
#include "optic/registry.h"

namespace optic::cli {

namespace {
void AddBackendsCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("backends", "List compiled-in backends with versions and capabilities");
  cmd->callback([&ctx] {
    for (const auto& name : BackendNames()) {
      std::unique_ptr<Backend> b;
      Status s = CreateBackend(name, &b);
      if (!s.ok()) {
        std::cout << name << ": " << s.ToString() << "\n";
        ctx.exit_code = 1;
        continue;
      }
      const Capabilities c = b->capabilities();
      std::string exts, precs, devs, opts;
      for (const auto& e : c.file_extensions) exts += (exts.empty() ? "" : " ") + e;
      for (Precision p : c.precisions) precs += (precs.empty() ? "" : " ") + std::string(PrecisionName(p));
      for (DeviceType d : c.devices) devs += (devs.empty() ? "" : " ") + DeviceName(Device{d, 0});
      for (const auto& o : b->option_specs()) opts += (opts.empty() ? "" : " ") + o.key;
      std::cout << name << " " << b->version() << (c.synthetic ? " (synthetic, for tests)" : "")
                << "\n  files: " << exts << "\n  devices: " << devs << "\n  precisions: " << precs
                << "\n  dynamic batch: " << (c.dynamic_batch ? "yes" : "no")
                << "  model cache: " << (c.model_cache ? "yes" : "no")
                << "\n  options: " << (opts.empty() ? "-" : opts) << "\n";
    }
  });
}

const CommandRegistrar kRegistrar("backends", AddBackendsCommand);
}  // namespace

}  // namespace optic::cli
