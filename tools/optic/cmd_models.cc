// optic models list | export: the model zoo. Export runs tools/zoo/export.py in the project's
// Python environment (Python only writes files; all inference is C++).
#include <cstdlib>
#include <iomanip>
#include <iostream>

#include "commands.h"
#include "optic/zoo.h"

#ifndef OPTIC_PYTHON
#define OPTIC_PYTHON "python3"
#endif
#ifndef OPTIC_SOURCE_DIR
#define OPTIC_SOURCE_DIR "."
#endif

namespace optic::cli {

namespace {

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

int List(const std::string& dir) {
  Zoo zoo;
  Status s = Zoo::Open(dir, &zoo);
  if (!s.ok()) {
    std::cerr << "optic models list: " << s.ToString() << "\n";
    return 2;
  }
  std::cout << std::left << std::setw(18) << "model" << std::setw(20) << "input" << std::setw(12)
            << "params" << "formats\n";
  for (const auto& name : zoo.ModelNames()) {
    const ZooModel* m;
    (void)zoo.Find(name, &m);
    std::string formats;
    for (const auto& [f, file] : m->files) formats += (formats.empty() ? "" : ", ") + f;
    std::cout << std::setw(18) << name << std::setw(20) << ShapeToString(m->input.shape)
              << std::setw(12) << m->params << formats << "\n";
  }
  return 0;
}

}  // namespace

namespace {
void AddModelsCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("models", "List or export the model zoo");
  cmd->require_subcommand(1);
  static std::string dir = DefaultZooDir();

  auto* list = cmd->add_subcommand("list", "List the models in the zoo");
  list->add_option("--dir", dir, "zoo directory ($OPTIC_MODELS or ./models)");
  list->callback([&ctx] { ctx.exit_code = List(dir); });

  auto* exp = cmd->add_subcommand(
      "export", "Export zoo models (seeded random weights) in every format the backends read");
  static std::string models, formats = "onnx,torchscript", python = OPTIC_PYTHON;
  static int seed = 0;
  static bool force = false;
  exp->add_option("--out", dir, "zoo directory ($OPTIC_MODELS or ./models)");
  exp->add_option("--models", models,
                  "comma-separated: resnet50, vgg19, densenet201, efficientnet_b0, mobilenet_v2, "
                  "vit_b_16, tiny_cnn, tiny_mlp (default: all)");
  exp->add_option("--formats", formats,
                  "comma-separated: onnx, torchscript, onnx-int8, onnx-fp16, openvino-int8");
  exp->add_option("--seed", seed, "weight seed");
  exp->add_flag("--force", force, "re-export even when the files match the manifest");
  exp->add_option("--python", python, "Python with torch and torchvision");
  exp->callback([&ctx] {
    std::string cmdline = Quote(python) + " " + Quote(std::string(OPTIC_SOURCE_DIR) + "/tools/zoo/export.py") +
                          " --out " + Quote(dir) + " --formats " + Quote(formats) +
                          " --seed " + std::to_string(seed) + (force ? " --force" : "");
    if (!models.empty()) cmdline += " --models " + Quote(models);
    const int rc = std::system(cmdline.c_str());
    ctx.exit_code = (rc == 0) ? 0 : (WIFEXITED(rc) ? WEXITSTATUS(rc) : 1);
  });
}

const CommandRegistrar kRegistrar("models", AddModelsCommand);
}  // namespace

}  // namespace optic::cli
