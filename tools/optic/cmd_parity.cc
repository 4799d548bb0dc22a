// optic parity --model NAME: every backend and precision against the reference, as a table.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "optic/model_source.h"
#include "optic/parity.h"

namespace optic::cli {

namespace {

std::string Fixed(double v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

struct Flags {
  std::string model, backends, precisions, reference, dir = DefaultZooDir(), device = "cpu",
      images, labels;
  int batch = 2, threads = 0, samples = kParitySamples;
  uint64_t seed = 1;
  ModelInputFlags inputs;
};

int Run(const Flags& f) {
  Zoo zoo;
  ModelDescription model;
  InputSettings values;
  Status s = ResolveModel(f.model, {f.dir, true}, &zoo, &model);
  if (s.ok()) s = f.inputs.AddTo(&values);
  if (s.ok() && !f.images.empty() && !f.inputs.data.empty()) {
    s = Status::InvalidArgument("--images and --input-data both give the inputs: pass one");
  }
  if (s.ok() && !f.labels.empty() && f.images.empty()) {
    s = Status::InvalidArgument("--labels names the classes of an --images folder: add --images DIR");
  }
  ImageFolder folder;
  if (s.ok() && !f.images.empty()) s = LoadImageFolder(model.inputs, f.images, f.labels, &values, &folder);
  if (s.ok()) s = LoadInputData(model.inputs, &values);
  ParityOptions opt;
  opt.backends = SplitList(f.backends);
  for (const auto& p : SplitList(f.precisions)) {
    Precision prec;
    if (s.ok()) s = ParsePrecision(p, &prec);
    opt.precisions.push_back(prec);
  }
  if (s.ok()) s = ParseDevice(f.device, &opt.device);
  opt.reference = f.reference;
  opt.batch_size = f.batch;
  opt.samples = values.data.empty() ? f.samples : static_cast<int>(InputDataRows(values));
  opt.labels = folder.labels;
  opt.threads = f.threads;
  opt.seed = f.seed;
  std::vector<ParityRow> rows;
  if (s.ok()) s = RunParity(model.from_zoo ? &zoo : nullptr, model, values, opt, &rows);
  if (!s.ok()) {
    std::cerr << "optic parity: " << s.ToString() << "\n";
    for (const auto& r : rows) {
      if (!r.ran) std::cerr << "  " << r.backend << " " << PrecisionName(r.precision) << ": " << r.error << "\n";
    }
    return 2;
  }
  std::vector<std::string> failed;
  const std::string from = !f.images.empty() ? f.images + " (JPEG, ImageNet preprocessing)"
                           : values.data.empty() ? "seed " + std::to_string(f.seed) : values.data_file;
  std::printf("parity of %s, %d samples in batches of %d, %s (limits: docs/architecture.md)\n",
              f.model.c_str(), opt.samples, f.batch, from.c_str());
  std::printf("%-12s %-5s %10s %10s %10s %9s %6s %6s %8s %9s  %s\n", "backend", "prec", "max_abs",
              "max_rel", "rel_l2", "cosine", "top1", "top5", "load_s", "run_ms", "result");
  for (const auto& r : rows) {
    const bool unsupported = !r.ran && r.error.rfind("UNSUPPORTED", 0) == 0;
    std::string result = r.reference ? "reference" : r.pass ? "pass" : "FAIL: " + r.failure;
    if (!r.ran) result = (unsupported ? "unsupported: " : "FAIL: ") + r.error;
    else if (!r.error.empty()) result = "FAIL: " + r.error;
    if (!r.reference && !r.pass && !unsupported) {
      failed.push_back(r.backend + " " + PrecisionName(r.precision) + " (" +
                       (r.ran && r.error.empty() ? r.failure : r.error) + ")");
    }
    if (r.ran && r.error.empty()) {
      const Agreement& a = r.agreement;
      const std::string top1 = a.class_scores ? Fixed(a.top1) : "-";
      const std::string top5 = a.class_scores ? Fixed(a.top5) : "-";
      std::printf("%-12s %-5s %10.3e %10.3e %10.3e %9.6f %6s %6s %8.2f %9.1f  %s\n", r.backend.c_str(),
                  PrecisionName(r.precision), r.diff.max_abs, r.diff.max_rel, r.diff.rel_l2,
                  a.cosine, top1.c_str(), top5.c_str(), r.load_s, r.run_ms, result.c_str());
    } else {
      std::printf("%-12s %-5s %10s %10s %10s %9s %6s %6s %8s %9s  %s\n", r.backend.c_str(),
                  PrecisionName(r.precision), "-", "-", "-", "-", "-", "-", "-", "-", result.c_str());
    }
  }
  if (!opt.labels.empty()) {
    std::printf("accuracy on %zu labelled images of %s:\n", opt.labels.size(), f.images.c_str());
    for (const auto& r : rows) {
      if (r.top1_accuracy < 0) continue;
      std::printf("  %-12s %-5s top1 %.4f top5 %.4f\n", r.backend.c_str(), PrecisionName(r.precision),
                  r.top1_accuracy, r.top5_accuracy);
    }
  }
  if (failed.empty()) {
    std::printf("every row within its precision's limits\n");
    return 0;
  }
  std::printf("%zu of %zu rows out of tolerance:\n", failed.size(), rows.size());
  for (const auto& f : failed) std::printf("  %s\n", f.c_str());
  return 1;
}

}  // namespace

namespace {
void AddParityCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("parity", "Compare every backend and precision with a reference");
  auto f = std::make_shared<Flags>();
  cmd->add_option("--model", f->model, "zoo model name or model file (.onnx, .pt, .xml, .pt2)")->required();
  AddModelInputOptions(cmd, &f->inputs, "", "smooth images or [-2, 2)",
                       "the check set's values, its rows replacing --samples");
  cmd->add_option("--images", f->images,
                  "a folder of JPEGs (ImageNet preprocessing fitted to the model's image input) as "
                  "the check set, one sample per file");
  cmd->add_option("--labels", f->labels,
                  "with --images: class names, one a line (line i = class i); the folder then holds "
                  "<class>/<file>.jpg and each row gets top-1/top-5 accuracy");
  cmd->add_option("--backends", f->backends, "comma-separated backends (default: all real ones)");
  cmd->add_option("--precision", f->precisions,
                  "comma-separated precisions (default: all each backend supports here)");
  cmd->add_option("--reference", f->reference, "reference backend (default: first that runs fp32)");
  cmd->add_option("--models-dir", f->dir, "zoo directory ($OPTIC_MODELS or ./models)");
  cmd->add_option("--device", f->device, "cpu or cuda[:N]");
  cmd->add_option("--samples", f->samples, "rows of the seeded check input")->check(CLI::Range(1, 65536));
  cmd->add_option("--batch", f->batch, "rows per execution (the samples run in batches)")->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", f->threads, "intra-op threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", f->seed, "input seed");
  cmd->callback([&ctx, f] { ctx.exit_code = Run(*f); });
}

const CommandRegistrar kRegistrar("parity", AddParityCommand);
}  // namespace

}  // namespace optic::cli
