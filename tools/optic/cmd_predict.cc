// optic predict: the seeds' load(path, params) + predict(x) from the command line. Loads one model
// file with one backend, runs a seeded input of N rows through the Predictor, prints the output
// shape, a checksum and timings. Useful to check a file and a set of options before a sweep.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "measure/stats.h"
#include "optic/parity.h"
#include "optic/predictor.h"
#include "optic/registry.h"

namespace optic::cli {
namespace {

struct Flags {
  std::string backend, file, shape;
  std::vector<std::string> options;
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
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  std::unique_ptr<Model> model;
  s = backend->Load(f.file, lo, &model);
  if (!s.ok()) return fail(s);
  const double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (model->inputs().size() != 1) {
    return fail(Status::Unsupported("optic predict feeds single-input models; '" + f.file +
                                    "' has " + std::to_string(model->inputs().size())));
  }
  TensorInfo info = model->inputs()[0];
  for (size_t i = 1; i < info.shape.size(); ++i) {
    if (info.shape[i] < 0) {
      return fail(Status::InvalidArgument("input '" + info.name + "' has variable dimension " +
                                          std::to_string(i) + " " + ShapeToString(info.shape)));
    }
  }
  Tensor x, y;
  s = MakeInput(info, f.rows, f.seed, &x);
  if (!s.ok()) return fail(s);
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
  double sum = 0;
  for (int64_t i = 0; i < y.numel(); ++i) sum += y.GetAsDouble(i);
  std::printf("%s %s: load %.3f s; input %s; output %s sum %.6g; predict median %.3f ms over %d\n",
              f.backend.c_str(), backend->version().c_str(), load_s,
              x.DebugString().c_str(), y.DebugString().c_str(), sum, measure::Median(ms), f.repeat);
  return 0;
}

void AddPredictCommand(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("predict", "Load one model file with one backend and run it");
  auto f = std::make_shared<Flags>();
  cmd->add_option("--backend", f->backend, "backend name (optic backends lists them)")->required();
  cmd->add_option("--file", f->file, "model file")->required();
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
