// ONNX Runtime's own minimal loop (Ort::Session::Run on a preallocated input) against optic's
// Predictor over the onnxruntime backend. Usage: ort_overhead MODEL.onnx THREADS ROUNDS ITERS
#include <onnxruntime_cxx_api.h>

#include <cstdlib>
#include <iostream>

#include "harness.h"
#include "optic/parity.h"
#include "optic/predictor.h"
#include "optic/registry.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: ort_overhead MODEL.onnx THREADS ROUNDS ITERS\n";
    return 2;
  }
  const std::string path = argv[1];
  const int threads = std::atoi(argv[2]), rounds = std::atoi(argv[3]), iters = std::atoi(argv[4]);

  // optic side
  optic::LoadOptions lo;
  lo.threads = threads;
  std::unique_ptr<optic::Model> model;
  optic::Status s = optic::LoadModel("onnxruntime", path, lo, &model);
  if (!s.ok()) { std::cerr << s.ToString() << "\n"; return 1; }
  optic::Tensor x, y;
  s = optic::MakeInput(model->inputs()[0], 1, 1, &x);
  if (!s.ok()) { std::cerr << s.ToString() << "\n"; return 1; }
  std::unique_ptr<optic::Predictor> predictor;
  s = optic::Predictor::Create(model.get(), {1, false, true}, &predictor);
  if (!s.ok()) { std::cerr << s.ToString() << "\n"; return 1; }

  // native side, the same session settings optic uses (threads, sequential, spinning, all opts)
  Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "native");
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(threads);
  so.SetInterOpNumThreads(1);
  so.SetExecutionMode(ExecutionMode::ORT_SEQUENTIAL);
  so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  Ort::Session session(env, path.c_str(), so);
  Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const auto& shape = x.shape();
  Ort::Value input = Ort::Value::CreateTensor<float>(mem, x.data<float>(), x.numel(),
                                                     shape.data(), shape.size());
  const char* in_names[] = {"input"};
  const char* out_names[] = {"output"};
  Ort::RunOptions ro;

  optic::bench::OverheadResult r;
  r.framework = "onnxruntime";
  r.version = Ort::GetVersionString();
  r.model = path;
  r.threads = threads;
  optic::bench::TimeSideBySide(
      [&] { auto out = session.Run(ro, in_names, &input, 1, out_names, 1); },
      [&] {
        optic::Status st = predictor->Predict(x, &y);
        if (!st.ok()) { std::cerr << st.ToString() << "\n"; std::exit(1); }
      },
      rounds, iters, &r);
  optic::bench::PrintResult(r);
  return 0;
}
