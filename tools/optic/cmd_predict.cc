// optic predict: the seeds' load(path, params) + predict(x) from the command line. Loads one model
// file with one backend, runs a seeded input of N rows through the Predictor, prints the output
// shape, a checksum and timings. Useful to check a file and a set of options before a sweep.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "measure/stats.h"
#include "optic/model_source.h"
#include "optic/parity.h"
#include "optic/predictor.h"
#include "optic/registry.h"

namespace optic::cli {
namespace {

struct Flags {
  std::string backend, file, shape, models_dir, images, labels;
  std::vector<std::string> options;
  ModelInputFlags inputs;
  int rows = 1, batch = 1, repeat = 1;
  uint64_t seed = 1;
};

int Run(const Flags& f) {
  auto fail = [](const Status& s) {
    std::cerr << "optic predict: " << s.ToString() << "\n";
    return 2;
  };
  std::unique_ptr<Backend> backend;
  Status s = CreateBackend(f.backend, &backend);
  if (!s.ok()) return fail(s);
  LoadOptions lo;
  lo.batch_size = f.batch;
  for (const auto& o : f.options) {
    s = ParseLoadOption(*backend, o, &lo);
    if (!s.ok()) return fail(s);
  }
  InputSettings settings;
  s = f.inputs.AddTo(&settings);
  if (!s.ok()) return fail(s);
  // A zoo name loads the zoo's file for this backend; a path loads as it is.
  std::string file = f.file;
  if (!LooksLikeModelFile(f.file)) {
    Zoo zoo;
    ModelDescription m;
    s = ResolveModel(f.file, {f.models_dir, false}, &zoo, &m);
    if (!s.ok()) return fail(s);
    const BackendFile bf = FileForBackend(m, &zoo, *backend, lo.precision);
    if (!bf.unsupported.empty()) return fail(Status::Unsupported(bf.unsupported));
    file = bf.path;
  } else if (!backend->capabilities().synthetic) {
    std::string format;
    s = DetectModelFormat(f.file, &format);
    if (!s.ok()) return fail(s.Prefixed(f.backend));
  }
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  std::unique_ptr<Model> model;
  s = backend->Load(file, lo, &model);
  if (!s.ok()) return fail(s);
  const double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<TensorInfo> infos;
  ImageFolder folder;
  if (!f.images.empty() && !f.inputs.data.empty()) {
    s = Status::InvalidArgument("--images and --input-data both give the inputs: pass one");
  } else if (!f.labels.empty() && f.images.empty()) {
    s = Status::InvalidArgument("--labels names the classes of an --images folder: add --images DIR");
  } else if (!f.images.empty()) {
    s = LoadImageFolder(model->inputs(), f.images, f.labels, &settings, &folder);
  }
  if (s.ok()) s = LoadInputData(model->inputs(), &settings);
  if (s.ok()) s = ConcreteInputs(model->inputs(), settings, &infos);
  if (!s.ok()) return fail(s);
  const int64_t rows = settings.data.empty() ? f.rows : InputDataRows(settings);
  std::vector<Tensor> x, y;
  for (size_t i = 0; i < infos.size(); ++i) {
    s = MakeInputValues(infos[i], rows, settings, f.seed * 1000003ULL + i, &x.emplace_back());
    if (!s.ok()) return fail(s);
  }
  std::unique_ptr<Predictor> predictor;
  s = Predictor::Create(model.get(), {f.batch, !backend->capabilities().dynamic_batch, true},
                        &predictor);
  if (!s.ok()) return fail(s);
  std::vector<double> ms;
  for (int r = 0; r < f.repeat; ++r) {
    t0 = Clock::now();
    s = predictor->Predict(x, &y);
    if (!s.ok()) return fail(s.Prefixed(f.backend + " '" + f.file + "'"));
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::string in_text, out_text;
  for (size_t i = 0; i < x.size(); ++i) {
    in_text += (i ? ", " : "") + infos[i].name + " " + x[i].DebugString();
  }
  for (size_t i = 0; i < y.size(); ++i) {
    double sum = 0;
    for (int64_t k = 0; k < y[i].numel(); ++k) sum += y[i].GetAsDouble(k);
    char buf[64];
    std::snprintf(buf, sizeof buf, " sum %.6g", sum);
    const std::string name = i < model->outputs().size() ? model->outputs()[i].name : "output";
    out_text += (i ? "; " : "") + name + " " + y[i].DebugString() + buf;
  }
  std::printf("%s %s: load %.3f s; input %s; output %s; predict median %.3f ms over %d\n",
              f.backend.c_str(), backend->version().c_str(), load_s, in_text.c_str(),
              out_text.c_str(), measure::Median(ms), f.repeat);
  if (!folder.labels.empty()) {
    double top1 = 0, top5 = 0;
    s = y.empty() ? Status::InvalidArgument("the model gave no output") : TopKAccuracy(y[0], folder.labels, &top1, &top5);
    if (!s.ok()) return fail(s);
    std::printf("accuracy on %zu labelled images: top1 %.4f top5 %.4f\n", folder.labels.size(), top1, top5);
  }
  return 0;
}

void AddPredictCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("predict", "Load one model file with one backend and run it");
  auto f = std::make_shared<Flags>();
  cmd->add_option("--backend", f->backend, "backend name (optic backends lists them)")->required();
  cmd->add_option("--file", f->file, "model file (.onnx, .pt, .xml, .pt2) or zoo model name")->required();
  cmd->add_option("--models-dir", f->models_dir, "zoo directory for a zoo name ($OPTIC_MODELS or ./models)");
  AddModelInputOptions(cmd, &f->inputs, "--rows", "uniform [-2, 2)", "the input values, its rows replacing --rows");
  cmd->add_option("--images", f->images,
                  "a folder of JPEGs (ImageNet preprocessing fitted to the model's image input), "
                  "one row per file, replacing --rows");
  cmd->add_option("--labels", f->labels,
                  "with --images: class names, one a line (line i = class i); the folder then holds "
                  "<class>/<file>.jpg and top-1/top-5 accuracy is printed");
  cmd->add_option("-o,--option", f->options,
                  "load option key=value: device, precision, threads, cache_dir, or the backend's own");
  cmd->add_option("--rows", f->rows, "rows of input")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--batch", f->batch, "batch size the predictor splits into")->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--repeat", f->repeat, "timed repetitions")->check(CLI::Range(1, 100000));
  cmd->add_option("--seed", f->seed, "input seed");
  cmd->callback([&ctx, f] { ctx.exit_code = Run(*f); });
}

const CommandRegistrar kRegistrar("predict", AddPredictCommand);

}  // namespace
}  // namespace optic::cli
