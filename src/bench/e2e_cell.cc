#include "bench/e2e_cell.h"

#include <chrono>
#include <cmath>

#include "bench/cell_load.h"
#include "bench/e2e_images.h"
#include "bench/results.h"
#include "bench/scenarios.h"
#include "measure/stats.h"
#include "optic/preprocess.h"

namespace optic::bench {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct StageSums {
  double decode = 0, preprocess = 0, h2d = 0, infer = 0, d2h = 0;
  int64_t queries = 0;
};

}  // namespace

Status RunE2ECell(const CellSpec& c, CellReporter* rep, results::Row* row) {
  json& settings = row->settings;
  ImageClassSpec spec;
  OPTIC_RETURN_IF_ERROR(ParseImageClass(c.image_class, &spec));
  Device pp_device;
  if (c.preprocess == "gpu") pp_device = c.device.is_cpu() ? Device{DeviceType::kCUDA, 0} : c.device;
  else if (c.preprocess != "cpu") return Status::InvalidArgument("preprocess must be cpu or gpu, not '" + c.preprocess + "'");

  if (!pp_device.is_cpu()) {
    // Fail fast, before the model load, where optic has no GPU preprocessing (no CUDA build).
    std::unique_ptr<Preprocessor> probe;
    OPTIC_RETURN_IF_ERROR(CreatePreprocessor(PreprocessOptions{}, pp_device, &probe).Prefixed("preprocess gpu"));
  }
  LoadedModel lm;
  Status load = LoadWithPhases(c, c.model, rep, &lm);
  SetLoadTimes(lm, row);
  settings["model_file"] = lm.file;
  OPTIC_RETURN_IF_ERROR(load);
  Model* model = lm.model.get();

  rep->Phase("preprocessor");
  PreprocessOptions po;
  OPTIC_RETURN_IF_ERROR(E2EPreprocessOptions(model->inputs(), c.threads, &po));
  std::unique_ptr<Preprocessor> pp;
  OPTIC_RETURN_IF_ERROR(CreatePreprocessor(po, pp_device, &pp).Prefixed("preprocess " + c.preprocess));
  settings["preprocess_options"] = {{"resize_shorter", po.resize_shorter},
                                    {"crop", {po.crop_height, po.crop_width}},
                                    {"filter", ResizeFilterName(po.filter)},
                                    {"dct_scaling", po.dct_scaling},
                                    {"layout", po.layout == Layout::kNCHW ? "NCHW" : "NHWC"},
                                    {"dtype", DTypeName(po.dtype)},
                                    {"threads", c.threads}};

  rep->Phase("images");
  std::vector<std::vector<uint8_t>> jpegs;
  auto t0 = Clock::now();
  OPTIC_RETURN_IF_ERROR(MakeJpegPool(spec, c.settings.seed, &jpegs));
  double bytes = 0, min_b = 1e18, max_b = 0;
  for (const auto& j : jpegs) {
    bytes += j.size();
    min_b = std::min<double>(min_b, j.size());
    max_b = std::max<double>(max_b, j.size());
  }
  json e2e = {{"image_width", spec.width}, {"image_height", spec.height},
              {"image_pool", jpegs.size()}, {"image_bytes_mean", bytes / jpegs.size()},
              {"image_bytes_min", min_b}, {"image_bytes_max", max_b},
              {"image_bytes_target", spec.target_bytes}, {"jpeg_quality", spec.quality},
              {"generate_s", MsSince(t0) / 1e3}};

  // The preprocessor writes into `batch` (on its device); a host model reads it directly (CPU
  // preprocessing) or after a copy to the host (GPU preprocessing, timed as d2h).
  Tensor batch, host_batch;
  OPTIC_RETURN_IF_ERROR(pp->AllocateBatch(c.batch_size, &batch));
  const bool on_gpu = !pp->device().is_cpu();
  const bool pass_device = on_gpu && lm.caps.accepts_device_tensors && !c.device.is_cpu();
  std::vector<ImageInput> images(c.batch_size);
  std::vector<ImageResult> results;
  std::vector<Tensor> outputs;
  StageSums sums;
  bool counting = false;
  SteadyMeters* meters = nullptr;  // the steady state's, for the model's device phases

  // One query: batch_size JPEGs from the pool (rotating, so consecutive queries differ).
  auto e2e_query = [&](int64_t i) -> Status {
    for (int k = 0; k < c.batch_size; ++k) {
      const size_t idx = static_cast<size_t>(i * c.batch_size + k) % jpegs.size();
      images[k] = {spec.name + "#" + std::to_string(idx), jpegs[idx].data(), jpegs[idx].size()};
    }
    auto t = Clock::now();
    OPTIC_RETURN_IF_ERROR(pp->Run(images, &batch, &results));
    const double run_ms = MsSince(t);
    for (const ImageResult& r : results) OPTIC_RETURN_IF_ERROR(r.status);
    const PreprocessTimings& pt = pp->last_timings();
    double decode, prep, h2d = 0, d2h = 0;
    if (on_gpu) {
      // GPU stage times are host-elapsed; what Run spent outside them counts as preprocess.
      decode = pt.decode_ms;
      h2d = pt.copy_ms;
      prep = std::max(0.0, run_ms - decode - h2d);
    } else {
      // CPU stage times are summed over the worker threads; split Run's elapsed time in their
      // proportion so the stages add up to the query's latency.
      const double cpu = pt.decode_ms + pt.resize_ms;
      decode = cpu > 0 ? run_ms * pt.decode_ms / cpu : 0;
      prep = run_ms - decode;
    }
    const Tensor* input = &batch;
    if (on_gpu && !pass_device) {
      t = Clock::now();
      OPTIC_RETURN_IF_ERROR(pp->BatchToHost(batch, &host_batch));
      d2h = MsSince(t);
      input = &host_batch;
    }
    t = Clock::now();
    OPTIC_RETURN_IF_ERROR(model->Execute({*input}, &outputs));
    const double infer = MsSince(t);
    if (meters) meters->Observe(model);
    if (counting) {
      sums.decode += decode, sums.preprocess += prep, sums.h2d += h2d, sums.infer += infer;
      sums.d2h += d2h;
      ++sums.queries;
    }
    return Status::OK();
  };

  rep->Phase("first_inference");
  t0 = Clock::now();
  OPTIC_RETURN_IF_ERROR(e2e_query(0).Prefixed("first query"));
  row->first_inference_ms = MsSince(t0);
  int64_t nonfinite = 0;
  for (const Tensor& o : outputs) {
    if (o.dtype() != DType::kFP32) continue;
    const float* v = static_cast<const float*>(o.raw());
    for (int64_t k = 0; k < o.numel(); ++k) nonfinite += !std::isfinite(v[k]);
  }
  row->nonfinite_outputs = nonfinite;

  rep->Phase("warmup");
  int64_t warm_runs = 0;
  double warm_mean_ms = 0;
  t0 = Clock::now();
  OPTIC_RETURN_IF_ERROR(Warmup(e2e_query, c.settings, &warm_runs, &warm_mean_ms));
  row->phases = {{"warmup_runs", warm_runs}, {"warmup_ms", MsSince(t0)}};

  SteadyResult r;  // e2e runs no server scenario: r.server stays null
  OPTIC_RETURN_IF_ERROR(MeasureSteady(c, "steady", rep, row, [&](SteadyMeters* m, SteadyResult* out) {
    meters = m;
    counting = true;
    Status st = RunClosedLoop(e2e_query, c.batch_size, c.settings, out);
    counting = false;
    meters = nullptr;
    return st;
  }, &r));
  const double n = static_cast<double>(std::max<int64_t>(1, sums.queries));
  row->stages_ms = {{"decode", sums.decode / n}, {"preprocess", sums.preprocess / n},
                    {"h2d", sums.h2d / n}, {"infer", sums.infer / n}, {"d2h", sums.d2h / n}};
  double total = 0;
  for (const auto& [k, v] : row->stages_ms) total += v;
  e2e["stages_sum_ms"] = total;
  e2e["decode_preprocess_share"] = total > 0 ? (sums.decode + sums.preprocess) / n / total : 0.0;

  // Inference only, same model and batch, on batches this preprocessor made (distinct ones, so
  // the inputs are real images and not one cached tensor).
  rep->Phase("inference_only");
  std::vector<Tensor> prepared;
  const int distinct = static_cast<int>(std::max<size_t>(1, std::min<size_t>(8, jpegs.size() / c.batch_size)));
  for (int q = 0; q < distinct; ++q) {
    OPTIC_RETURN_IF_ERROR(e2e_query(q));  // also leaves the batch in `batch` / `host_batch`
    Tensor copy;
    const Tensor& made = on_gpu && !pass_device ? host_batch : batch;
    if (made.is_host()) OPTIC_RETURN_IF_ERROR(made.Clone(&copy));
    else OPTIC_RETURN_IF_ERROR(pp->BatchToHost(made, &copy));
    prepared.push_back(std::move(copy));
  }
  QueryFn infer_query = [&](int64_t i) {
    return model->Execute({prepared[static_cast<size_t>(i) % prepared.size()]}, &outputs);
  };
  int64_t iw = 0;
  double im = 0;
  OPTIC_RETURN_IF_ERROR(Warmup(infer_query, c.settings, &iw, &im));
  SteadyResult ir;
  OPTIC_RETURN_IF_ERROR(RunClosedLoop(infer_query, c.batch_size, c.settings, &ir));
  const measure::Summary il = measure::Summarize(ir.latencies_ms);
  row->inference_only_throughput_per_s = ir.throughput_per_s();
  e2e["inference_only"] = {{"latency_ms_p50", il.p50}, {"latency_ms_mean", il.mean},
                           {"queries", ir.queries}, {"stable", ir.stable},
                           {"distinct_batches", prepared.size()}};
  e2e["throughput_fraction_of_inference_only"] =
      ir.throughput_per_s() > 0 ? r.throughput_per_s() / ir.throughput_per_s() : 0.0;
  row->e2e = e2e;
  return Status::OK();
}

Status E2EPreprocessOptions(const std::vector<TensorInfo>& inputs, int threads, PreprocessOptions* o) {
  if (inputs.size() != 1) {
    return Status::Unsupported("e2e needs a model with one image input; this one has " +
                               std::to_string(inputs.size()) + " inputs");
  }
  OPTIC_RETURN_IF_ERROR(PreprocessOptionsForInput(inputs[0], nullptr, o).Prefixed("e2e"));
  o->threads = threads;
  return ValidatePreprocessOptions(*o);
}

}  // namespace optic::bench
