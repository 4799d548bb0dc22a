#include "optic/parity.h"

#include <algorithm>
#include <chrono>

#include "optic/model_source.h"
#include "optic/predictor.h"
#include "optic/registry.h"

namespace optic {

Status MakeInput(const TensorInfo& info, int64_t batch, uint64_t seed, Tensor* out) {
  Shape shape = info.shape;
  if (shape.empty()) return Status::InvalidArgument("input '" + info.name + "' has no batch axis");
  shape[0] = batch;
  for (int64_t d : shape) {
    if (d < 0) {
      return Status::InvalidArgument("input '" + info.name + "' has a variable dimension besides " +
                                     "the batch: " + ShapeToString(info.shape));
    }
  }
  OPTIC_RETURN_IF_ERROR(Tensor::Empty(DType::kFP32, shape, out));
  return FillUniform(out, seed, -2.0f, 2.0f);
}

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Loads and runs one (backend, precision); fills the row's ran/error/timings and `outputs`.
void RunOne(const Zoo* zoo, const ModelDescription& m, const InputSettings& values,
            const ParityOptions& opt, const std::vector<Tensor>& inputs, ParityRow* row,
            std::vector<Tensor>* outputs) {
  std::unique_ptr<Backend> backend;
  Status s = CreateBackend(row->backend, &backend);
  if (s.ok()) {
    const BackendFile f = FileForBackend(m, zoo, *backend, row->precision, values);
    if (!f.unsupported.empty()) s = m.from_zoo ? Status::Unsupported(f.unsupported.substr(f.unsupported.find(": ") + 2))
                                               : Status::Unsupported(f.unsupported);
    row->file = f.path;
  }
  LoadOptions lo;
  lo.device = opt.device;
  lo.precision = row->precision;
  lo.threads = opt.threads;
  lo.batch_size = opt.batch_size;
  std::unique_ptr<Model> model;
  auto t0 = Clock::now();
  if (s.ok()) s = backend->Load(row->file, lo, &model);
  row->load_s = Since(t0);
  std::unique_ptr<Predictor> predictor;
  if (s.ok()) s = Predictor::Create(model.get(), {opt.batch_size, false, false}, &predictor);
  t0 = Clock::now();
  if (s.ok()) s = predictor->Predict(inputs, outputs);
  row->run_ms = Since(t0) * 1e3;
  for (const Tensor& t : *outputs) {
    if (s.ok() && !t.is_host()) s = Status::Internal("backend returned a device tensor");
  }
  row->ran = s.ok();
  if (!s.ok()) row->error = s.ToString();
}

}  // namespace

Status RunParity(const Zoo& zoo, const std::string& model_name, const ParityOptions& opt,
                 std::vector<ParityRow>* rows) {
  ModelDescription m;
  OPTIC_RETURN_IF_ERROR(zoo.Find(model_name, &m.zoo_model));
  m.name = model_name;
  m.from_zoo = true;
  m.inputs = {m.zoo_model->input};
  m.outputs = {m.zoo_model->output};
  return RunParity(&zoo, m, {}, opt, rows);
}

Status RunParity(const Zoo* zoo, const ModelDescription& m, const InputSettings& values,
                 const ParityOptions& opt, std::vector<ParityRow>* rows) {
  const std::string& model_name = m.name;
  std::vector<std::string> backends = opt.backends;
  if (backends.empty()) {
    for (const auto& name : BackendNames()) {
      std::unique_ptr<Backend> b;
      if (CreateBackend(name, &b).ok() && !b->capabilities().synthetic) backends.push_back(name);
    }
  }
  if (opt.samples < 1) return Status::InvalidArgument("parity needs at least 1 sample");
  InputSettings given = values;
  OPTIC_RETURN_IF_ERROR(LoadInputData(m.inputs, &given));
  const int samples = given.data.empty() ? opt.samples : static_cast<int>(InputDataRows(given));
  std::vector<TensorInfo> infos;
  OPTIC_RETURN_IF_ERROR(ConcreteInputs(m.inputs, given, &infos));
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < infos.size(); ++i) {
    const TensorInfo& info = infos[i];
    // The zoo's single input keeps its seed; further inputs get their own.
    const uint64_t seed = i == 0 ? opt.seed : opt.seed * 1000003ULL + i;
    const bool is_float = info.dtype == DType::kFP32 || info.dtype == DType::kFP16 || info.dtype == DType::kBF16;
    Tensor t;
    if (is_float && !given.ranges.count(info.name) && !given.data.count(info.name)) {
      OPTIC_RETURN_IF_ERROR(MakeCheckInput(info, samples, seed, &t));
    } else {
      OPTIC_RETURN_IF_ERROR(MakeInputValues(info, samples, given, seed, &t));
    }
    inputs.push_back(t);
  }

  // Rows in order; the reference is the first (backend, fp32) that runs.
  std::vector<std::vector<Tensor>> outputs;
  rows->clear();
  for (const auto& name : backends) {
    std::unique_ptr<Backend> b;
    OPTIC_RETURN_IF_ERROR(CreateBackend(name, &b));
    std::vector<Precision> precisions = opt.precisions;
    if (precisions.empty()) precisions = b->capabilities().precisions;
    // The reference always runs at fp32, also when only lower precisions are asked for.
    const bool is_reference = opt.reference.empty() ? name == backends.front() : name == opt.reference;
    if (is_reference && std::find(precisions.begin(), precisions.end(), Precision::kFP32) ==
                            precisions.end()) {
      precisions.insert(precisions.begin(), Precision::kFP32);
    }
    for (Precision p : precisions) {
      ParityRow row;
      row.backend = name;
      row.precision = p;
      row.limits = ParityLimitsFor(p);
      row.tolerance = row.limits.max_rel_l2;
      std::vector<Tensor> out;
      RunOne(zoo, m, given, opt, inputs, &row, &out);
      rows->push_back(row);
      outputs.push_back(out);
    }
  }
  int ref = -1;
  for (size_t i = 0; i < rows->size() && ref < 0; ++i) {
    const ParityRow& r = (*rows)[i];
    const bool named = opt.reference.empty() || r.backend == opt.reference;
    if (r.ran && r.precision == Precision::kFP32 && named) ref = static_cast<int>(i);
  }
  if (ref < 0) {
    return Status::Unavailable("parity for '" + model_name + "': no reference (" +
                               (opt.reference.empty() ? "any backend" : opt.reference) +
                               " at fp32) could run");
  }
  (*rows)[ref].reference = true;
  for (size_t i = 0; i < rows->size(); ++i) {
    ParityRow& r = (*rows)[i];
    if (!r.ran) continue;
    // Every output against the reference's; the worst of each measure counts.
    Status s = outputs[i].size() == outputs[ref].size()
                   ? Status::OK()
                   : Status::InvalidArgument(std::to_string(outputs[i].size()) + " outputs, the reference " +
                                             std::to_string(outputs[ref].size()));
    for (size_t o = 0; s.ok() && o < outputs[i].size(); ++o) {
      TensorDiff d;
      Agreement a;
      s = MeasureAgreement(outputs[i][o], outputs[ref][o], &d, &a);
      if (!s.ok()) break;
      if (o == 0) r.diff = d, r.agreement = a;
      else MergeWorst(d, a, &r.diff, &r.agreement);
    }
    if (!s.ok()) {
      r.error = s.ToString();
      continue;
    }
    if (!opt.labels.empty() && !outputs[i].empty()) {
      s = TopKAccuracy(outputs[i][0], opt.labels, &r.top1_accuracy, &r.top5_accuracy);
      if (!s.ok()) {
        r.error = s.ToString();
        continue;
      }
    }
    r.failure = ParityFailure(r.precision, r.diff, r.agreement);
    r.pass = r.failure.empty();
  }
  return Status::OK();
}

}  // namespace optic
